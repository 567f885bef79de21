"""File inputs: URLs downloaded, data: URIs decoded, local paths refused (a security boundary)."""

from __future__ import annotations

import base64
import http.server
import pathlib
import threading
from collections.abc import Iterator

import pytest

from foretell.predictor.errors import InvalidInput
from foretell.predictor.load import LoadedPredictor, load_predictor
from foretell.predictor.types import Secret

PREDICTORS = pathlib.Path(__file__).parents[1] / "fixtures" / "predictors"


class _Files(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/missing"):
            self.send_error(404)
            return
        body = b"PNGDATA"
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def file_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving small files."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


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
    assert image.name == "cat.png"
    assert image.read_bytes() == b"PNGDATA"
    assert tmp_path in image.parents
    assert image.source == f"{file_server}/dir/cat.png"


def test_failed_download_is_a_field_error(
    predictor: LoadedPredictor, file_server: str, tmp_path: pathlib.Path
) -> None:
    """A URL that can't be fetched is reported on its field."""
    with pytest.raises(InvalidInput, match="input.image: could not download"):
        predictor.prepare_inputs(_inputs(f"{file_server}/missing.png"), workdir=tmp_path)


def test_data_uri_is_decoded(predictor: LoadedPredictor, tmp_path: pathlib.Path) -> None:
    """A base64 data: URI becomes a file with an extension from its MIME type."""
    uri = "data:image/png;base64," + base64.b64encode(b"\x89PNG").decode()
    image = predictor.prepare_inputs(_inputs(uri), workdir=tmp_path)["image"]
    assert image.suffix == ".png"
    assert image.read_bytes() == b"\x89PNG"


@pytest.mark.parametrize(
    "value", ["/etc/passwd", "file:///etc/passwd", "../secret.txt", "ftp://example.com/x"]
)
def test_local_paths_and_other_schemes_are_refused(
    predictor: LoadedPredictor, tmp_path: pathlib.Path, value: str
) -> None:
    """A Path input from a request never reads a file of the server."""
    with pytest.raises(InvalidInput, match="must be an http\\(s\\) URL or a data: URI"):
        predictor.prepare_inputs(_inputs(value), workdir=tmp_path)


def test_file_urls_only_when_allowed(predictor: LoadedPredictor, tmp_path: pathlib.Path) -> None:
    """The CLI's @file (a file:// URL) is accepted only with allow_local_files."""
    source = tmp_path / "photo.jpg"
    source.write_bytes(b"jpeg")
    values = predictor.prepare_inputs(
        _inputs(source.as_uri()), workdir=tmp_path / "work", allow_local_files=True
    )
    assert values["image"].read_bytes() == b"jpeg"


def test_secret_input_is_wrapped(predictor: LoadedPredictor, tmp_path: pathlib.Path) -> None:
    """A Secret input arrives as a Secret that prints as stars."""
    secret = predictor.prepare_inputs(
        {**_inputs("data:,x"), "api_key": "hunter2"}, workdir=tmp_path
    )["api_key"]
    assert isinstance(secret, Secret)
    assert secret.get_secret_value() == "hunter2"
    assert "hunter2" not in f"{secret} {secret!r}"


def test_file_inputs_are_open_binary_files(tmp_path: pathlib.Path) -> None:
    """A File input (deprecated Cog type) arrives as an open binary file."""
    predictor = load_predictor("schema_file_io.py", root=PREDICTORS)
    document = predictor.prepare_inputs({"document": "data:text/plain,hello"}, workdir=tmp_path)[
        "document"
    ]
    assert document.read() == b"hello"
    document.close()


def test_list_of_paths_each_become_files(tmp_path: pathlib.Path) -> None:
    """Every item of a list[Path] input is made local, without name collisions."""
    predictor = load_predictor("schema_lists.py", root=PREDICTORS)
    values = predictor.prepare_inputs(
        {"words": [], "images": ["data:,a", "data:,b"], "docs": []}, workdir=tmp_path
    )
    first, second = values["images"]
    assert (first.read_text(), second.read_text()) == ("a", "b")
