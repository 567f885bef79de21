"""A prediction's files on the runner: inputs made local by key or download, outputs kept."""

from __future__ import annotations

import datetime
import http.server
import pathlib
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

from foretell.core.prediction import Prediction
from foretell.files.local import LocalFiles
from foretell.files.protocol import FileStore
from foretell.outbound import GuardedClient, OutboundPolicy
from foretell.queue.protocol import WorkItem
from foretell.runner.errors import StepFailed
from foretell.runner.inputs import keep_outputs, materialize
from tests.files_fakes import Elsewhere

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
UPLOAD_URL = "http://api.example/v1/files/f1"


class _Files(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/images/cat.png":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"meow")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[str]:
    """A file server on 127.0.0.1, for remote inputs."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
async def outbound() -> AsyncIterator[GuardedClient]:
    """The guard as `--allow-private-urls` sets it, so 127.0.0.1 may be fetched."""
    client = GuardedClient(OutboundPolicy(allow_private=True))
    yield client
    await client.close()


@pytest.fixture
def files(tmp_path: pathlib.Path) -> LocalFiles:
    return LocalFiles(tmp_path / "files")


def _item(file_keys: dict[str, str] | None = None, remote: tuple[str, ...] = ()) -> WorkItem:
    prediction = Prediction(
        id="p1", account="ann", model="acme/echo", version="v" * 64, input={}, created_at=T0
    )
    return WorkItem(prediction, "echo", file_keys or {}, remote)


async def test_a_stored_input_on_this_disk_is_used_in_place(
    files: LocalFiles, outbound: GuardedClient, tmp_path: pathlib.Path
) -> None:
    """An upload in a store on this disk is handed over by its own path: no copy, and no
    scratch folder made."""
    await files.put("uploads/f1/cat.png", b"meow")
    scratch = tmp_path / "scratch"
    paths = await materialize(_item({UPLOAD_URL: "uploads/f1/cat.png"}), files, outbound, scratch)
    assert paths == {UPLOAD_URL: str(files.root / "uploads" / "f1" / "cat.png")}
    assert not scratch.exists()


async def test_a_stored_input_elsewhere_is_copied_into_scratch(
    files: LocalFiles,
    outbound: GuardedClient,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From a store without local paths, an input is copied into the scratch folder, under
    its own name and an absolute path (a worker's cwd is its model's folder)."""
    await files.put("uploads/f1/cat.png", b"meow")
    monkeypatch.chdir(tmp_path)
    elsewhere: FileStore = Elsewhere(files)  # type: ignore[assignment]
    item = _item({UPLOAD_URL: "uploads/f1/cat.png"})
    paths = await materialize(item, elsewhere, outbound, pathlib.Path("scratch"))
    copy = pathlib.Path(paths[UPLOAD_URL])
    assert copy.is_absolute() and copy.name == "cat.png" and copy.read_bytes() == b"meow"
    assert tmp_path / "scratch" in copy.parents


async def test_a_stored_input_that_is_gone_fails_the_step(
    files: LocalFiles, outbound: GuardedClient, tmp_path: pathlib.Path
) -> None:
    """An input deleted since it was admitted fails with a message naming its URL."""
    with pytest.raises(StepFailed, match=f"The input file {UPLOAD_URL} no longer exists"):
        await materialize(_item({UPLOAD_URL: "uploads/f1/gone.png"}), files, outbound, tmp_path)


async def test_a_remote_input_is_downloaded_through_the_guard(
    files: LocalFiles, outbound: GuardedClient, web: str, tmp_path: pathlib.Path
) -> None:
    """A remote URL is fetched into scratch, named after its path."""
    url = f"{web}/images/cat.png"
    paths = await materialize(_item(remote=(url,)), files, outbound, tmp_path / "scratch")
    path = pathlib.Path(paths[url])
    assert path.name == "cat.png" and path.read_bytes() == b"meow"
    assert tmp_path / "scratch" in path.parents


async def test_a_remote_input_that_cannot_be_had_fails_the_step(
    files: LocalFiles, outbound: GuardedClient, web: str, tmp_path: pathlib.Path
) -> None:
    """A 404, or an address the guard refuses, fails with the URL and the reason."""
    missing = f"{web}/nope.png"
    with pytest.raises(StepFailed, match="Could not download the input file .*HTTP 404"):
        await materialize(_item(remote=(missing,)), files, outbound, tmp_path)
    guarded = GuardedClient(OutboundPolicy())
    try:
        with pytest.raises(StepFailed, match=f"Could not download the input file {web}"):
            await materialize(_item(remote=(f"{web}/images/cat.png",)), files, guarded, tmp_path)
    finally:
        await guarded.close()


async def test_outputs_are_moved_in_and_replaced_by_keys(
    files: LocalFiles, tmp_path: pathlib.Path
) -> None:
    """Each output file, wherever it sits in the value, is moved into the store under the
    prediction, and its path becomes its key; other values are left alone."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"A")
    (out / "b.txt").write_bytes(b"B")
    value = {"image": str(out / "a.png"), "more": [7, str(out / "b.txt")]}
    kept = await keep_outputs("p1", value, [["image"], ["more", 1]], files)
    assert kept["more"][0] == 7
    assert kept["image"].startswith("outputs/p1/") and kept["image"].endswith("/a.png")
    assert await files.read(kept["image"]) == b"A"
    assert await files.read(kept["more"][1]) == b"B"
    assert list(out.iterdir()) == []


async def test_a_single_file_output_becomes_its_key(
    files: LocalFiles, tmp_path: pathlib.Path
) -> None:
    """An output that is one file (location `[]`) is replaced by its key; no files, no change."""
    (tmp_path / "out.txt").write_bytes(b"x")
    key = await keep_outputs("p1", str(tmp_path / "out.txt"), [[]], files)
    assert await files.read(key) == b"x"
    assert await keep_outputs("p1", "just text", [], files) == "just text"


async def test_an_output_that_cannot_be_kept_fails_the_step(
    files: LocalFiles, tmp_path: pathlib.Path
) -> None:
    """A missing output file fails with foretell's message and the reason."""
    with pytest.raises(StepFailed, match="foretell could not keep this prediction's output: "):
        await keep_outputs("p1", str(tmp_path / "gone.png"), [[]], files)
