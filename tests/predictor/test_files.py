"""File inputs: URLs downloaded, data: URIs decoded, local paths refused (a security boundary)."""

from __future__ import annotations

import base64
import http.server
import pathlib
import threading
import time
from collections.abc import Iterator

import pytest

from cog import Path, URLFile, URLPath
from foretell.predictor.errors import InvalidInput
from foretell.predictor.files import safe_name
from foretell.predictor.load import LoadedPredictor, load_predictor

PREDICTORS = pathlib.Path(__file__).parents[1] / "fixtures" / "predictors"
DELAY_S = 0.3


class _Files(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/missing"):
            self.send_error(404)
            return
        if self.path.startswith("/slow"):
            time.sleep(DELAY_S)
        body = self.path.encode()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def file_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 that answers each path with the path itself."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def predictor() -> LoadedPredictor:
    return load_predictor("schema_inputs.py", root=PREDICTORS)


def _inputs(image: str) -> dict[str, object]:
    return {"text": "t", "image": image, "api_key": "k"}


def test_http_url_is_downloaded_into_the_workdir(
    predictor: LoadedPredictor, file_server: str, tmp_path: pathlib.Path
) -> None:
    """An http(s) URL becomes a local file named after the URL, inside the workdir."""
    values = predictor.prepare_inputs(_inputs(f"{file_server}/dir/cat.png"), workdir=tmp_path)
    image = values["image"]
    assert isinstance(image, URLPath) and isinstance(image, Path)
    assert image.name == "cat.png"
    assert image.read_bytes() == b"/dir/cat.png"
    assert tmp_path in image.parents
    assert image.source == f"{file_server}/dir/cat.png"


def test_url_without_a_file_name_gets_one_from_its_content_type(
    predictor: LoadedPredictor, file_server: str, tmp_path: pathlib.Path
) -> None:
    """A URL whose path has no basename is saved as `file` plus the served type's extension."""
    image = predictor.prepare_inputs(_inputs(f"{file_server}/"), workdir=tmp_path)["image"]
    assert image.name == "file.png"


def test_failed_download_is_a_field_error(
    predictor: LoadedPredictor, file_server: str, tmp_path: pathlib.Path
) -> None:
    """A URL that can't be fetched is reported on its field."""
    with pytest.raises(InvalidInput, match="input.image: could not download .*404"):
        predictor.prepare_inputs(_inputs(f"{file_server}/missing.png"), workdir=tmp_path)


def test_data_uri_is_decoded(predictor: LoadedPredictor, tmp_path: pathlib.Path) -> None:
    """A base64 data: URI becomes a file with an extension from its MIME type."""
    uri = "data:image/png;base64," + base64.b64encode(b"\x89PNG").decode()
    image = predictor.prepare_inputs(_inputs(uri), workdir=tmp_path)["image"]
    assert image.suffix == ".png"
    assert image.read_bytes() == b"\x89PNG"


@pytest.mark.parametrize(
    ("uri", "content"),
    [
        ("data:text/plain,hello%20world", b"hello world"),
        ("data:;base64,aGVs\nbG8=", b"hello"),
        ("data:application/octet-stream;base64,aGVsbG8%3D", b"hello"),
    ],
)
def test_data_uri_variants_decode(
    predictor: LoadedPredictor, tmp_path: pathlib.Path, uri: str, content: bytes
) -> None:
    """Percent-encoded data, line breaks in base64 and escaped padding all decode."""
    assert predictor.prepare_inputs(_inputs(uri), workdir=tmp_path)["image"].read_bytes() == content


@pytest.mark.parametrize(
    ("uri", "message"),
    [("data:image/png;base64,@@@", "bad base64"), ("data:image/png;base64", "no comma")],
)
def test_broken_data_uris_are_field_errors(
    predictor: LoadedPredictor, tmp_path: pathlib.Path, uri: str, message: str
) -> None:
    """A data: URI that can't be decoded is reported on its field."""
    with pytest.raises(InvalidInput, match=f"input.image: is not a valid data: URI \\({message}"):
        predictor.prepare_inputs(_inputs(uri), workdir=tmp_path)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("/etc/passwd", "local paths are not accepted"),
        ("../secret.txt", "local paths are not accepted"),
        ("file:///etc/passwd", "local paths are not accepted"),
        ("ftp://example.com/x", "got ftp:"),
        ("gopher://example.com/x", "got gopher:"),
    ],
)
def test_local_paths_and_other_schemes_are_refused(
    predictor: LoadedPredictor, tmp_path: pathlib.Path, value: str, why: str
) -> None:
    """A Path input from a request never reads a file of the server."""
    with pytest.raises(InvalidInput) as info:
        predictor.prepare_inputs(_inputs(value), workdir=tmp_path)
    assert str(info.value) == f"input.image: must be an http(s) URL or a data: URI ({why})"


def test_file_urls_only_when_allowed(predictor: LoadedPredictor, tmp_path: pathlib.Path) -> None:
    """The CLI's @file (a file:// URL) is accepted only with allow_local_files."""
    source = tmp_path / "photo.jpg"
    source.write_bytes(b"jpeg")
    values = predictor.prepare_inputs(
        _inputs(source.as_uri()), workdir=tmp_path / "work", allow_local_files=True
    )
    assert values["image"].read_bytes() == b"jpeg"
    with pytest.raises(InvalidInput, match="no such file"):
        predictor.prepare_inputs(
            _inputs((tmp_path / "gone.jpg").as_uri()), workdir=tmp_path, allow_local_files=True
        )


def test_bare_paths_stay_refused_even_when_local_files_are_allowed(
    predictor: LoadedPredictor, tmp_path: pathlib.Path
) -> None:
    """allow_local_files opens file:// URLs only; a bare path is still refused."""
    with pytest.raises(InvalidInput, match="local paths are not accepted"):
        predictor.prepare_inputs(_inputs("/etc/hostname"), workdir=tmp_path, allow_local_files=True)


def test_fetch_replaces_the_downloader(predictor: LoadedPredictor, tmp_path: pathlib.Path) -> None:
    """An injected fetch(url, directory) is used for http(s) inputs instead of urllib."""
    seen: list[str] = []

    def fetch(url: str, directory: pathlib.Path) -> pathlib.Path:
        seen.append(url)
        target = directory / "fetched.png"
        target.write_bytes(b"guarded")
        return target

    values = predictor.prepare_inputs(
        _inputs("https://example.com/a.png"), workdir=tmp_path, fetch=fetch
    )
    assert seen == ["https://example.com/a.png"]
    assert values["image"].read_bytes() == b"guarded"


def test_file_inputs_are_open_binary_files(tmp_path: pathlib.Path) -> None:
    """A File input (deprecated Cog type) arrives as an open binary file."""
    predictor = load_predictor("schema_file_io.py", root=PREDICTORS)
    document = predictor.prepare_inputs({"document": "data:text/plain,hello"}, workdir=tmp_path)[
        "document"
    ]
    assert isinstance(document, URLFile) and document.url == "data:text/plain,hello"
    assert document.read() == b"hello"
    document.close()


def test_list_of_paths_each_become_files(tmp_path: pathlib.Path) -> None:
    """Every item of a list[Path] input is made local, without name collisions."""
    predictor = load_predictor("schema_lists.py", root=PREDICTORS)
    values = predictor.prepare_inputs(
        {"words": [], "images": ["data:,a", "data:,b"], "docs": []}, workdir=tmp_path
    )
    first, second = values["images"]
    assert first.name == second.name
    assert (first.read_text(), second.read_text()) == ("a", "b")


def test_several_urls_download_in_parallel(file_server: str, tmp_path: pathlib.Path) -> None:
    """Remote files of one prediction are fetched at the same time, not one after another."""
    predictor = load_predictor("schema_files.py", root=PREDICTORS)
    frames = [f"{file_server}/slow/{i}.png" for i in range(4)]
    raw = {
        "image": f"{file_server}/slow/a.png",
        "weights": f"{file_server}/slow/w.bin",
        "document": "data:,d",
        "frames": frames,
    }
    started = time.monotonic()
    values = predictor.prepare_inputs(raw, workdir=tmp_path)
    assert time.monotonic() - started < DELAY_S * 3
    assert [p.read_bytes() for p in values["frames"]] == [
        f"/slow/{i}.png".encode() for i in range(4)
    ]
    values["document"].close()


def test_every_failing_file_is_reported(file_server: str, tmp_path: pathlib.Path) -> None:
    """Each file that can't be had gets its own error, list items by index."""
    predictor = load_predictor("schema_files.py", root=PREDICTORS)
    raw = {
        "image": "/etc/passwd",
        "weights": "data:,w",
        "document": "data:,ok",
        "frames": [f"{file_server}/ok.png", f"{file_server}/missing.png"],
    }
    with pytest.raises(InvalidInput) as info:
        predictor.prepare_inputs(raw, workdir=tmp_path)
    assert [error.field for error in info.value.errors] == ["image", "frames[1]"]


def test_a_models_own_default_may_be_a_file_of_the_model(tmp_path: pathlib.Path) -> None:
    """A default path written by the model's author is trusted, relative to the model's root."""
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "cat.png").write_bytes(b"cat")
    (tmp_path / "predict.py").write_text(
        "from cog import BasePredictor, Input, Path\n"
        "class Predictor(BasePredictor):\n"
        "    def predict(self, image: Path = Input(default='examples/cat.png')) -> str:\n"
        "        return 'ok'\n"
    )
    predictor = load_predictor("predict.py", root=tmp_path)
    image = predictor.prepare_inputs({}, workdir=tmp_path / "work")["image"]
    assert image.read_bytes() == b"cat"
    with pytest.raises(InvalidInput, match="local paths are not accepted"):
        predictor.prepare_inputs({"image": "examples/cat.png"}, workdir=tmp_path / "work")


@pytest.mark.parametrize(
    ("name", "safe"),
    [("cat.png", "cat.png"), ("a b/../c.txt", "a_b_.._c.txt"), ("...", "file"), ("", "file")],
)
def test_safe_name_keeps_extensions_and_drops_path_tricks(name: str, safe: str) -> None:
    """Downloaded file names are made safe for any filesystem, keeping the extension."""
    assert safe_name(name) == safe
