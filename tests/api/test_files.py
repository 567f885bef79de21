"""The Files API."""

from __future__ import annotations

import hashlib
import pathlib

import pytest
from starlette.responses import StreamingResponse

from foretell.api.files import _bytes
from foretell.errors import NotFound
from foretell.files.local import LocalFiles
from foretell.files.protocol import FileStore
from tests.files_fakes import Elsewhere
from tests.server import Server


def test_upload_get_list_download_delete(server: Server) -> None:
    """A multipart upload becomes a file object; it lists, downloads and deletes."""
    with server.client() as client:
        response = client.post(
            "/v1/files",
            files={"content": ("hello.txt", b"hello", "text/plain")},
            data={"metadata": '{"purpose": "test"}'},
        )
        assert response.status_code == 201
        created = response.json()
        assert created["name"] == "hello.txt" and created["size"] == 5
        assert created["content_type"] == "text/plain"
        assert created["etag"] == hashlib.md5(b"hello").hexdigest()
        assert created["checksums"]["sha256"] == hashlib.sha256(b"hello").hexdigest()
        assert created["metadata"] == {"purpose": "test"}
        assert created["urls"]["get"] == f"{server.url}/v1/files/{created['id']}"
        assert client.get(f"/v1/files/{created['id']}").json() == created
        assert created["id"] in [f["id"] for f in client.get("/v1/files").json()["results"]]
        assert client.get(f"/v1/files/{created['id']}/download").content == b"hello"
        assert client.delete(f"/v1/files/{created['id']}").status_code == 204
        assert client.get(f"/v1/files/{created['id']}").status_code == 404


def test_upload_errors(server: Server) -> None:
    """No multipart, no content part, or bad metadata: clear 4xx."""
    with server.client() as client:
        assert client.post("/v1/files", content=b"raw").status_code == 400
        missing = client.post("/v1/files", files={"other": ("a", b"x")})
        assert missing.status_code == 422
        bad_meta = client.post(
            "/v1/files", files={"content": ("a", b"x")}, data={"metadata": "{nope"}
        )
        assert bad_meta.status_code == 422


def _uploads(server: Server) -> set[str]:
    return {p.name for p in (server.data_dir / "files" / "uploads").iterdir()}


def _raw_upload(name: str) -> bytes:
    """A multipart body whose content part has `name` as its file name, byte for byte
    (httpx would percent-encode a NUL)."""
    return (
        b'--b\r\nContent-Disposition: form-data; name="content"; filename="'
        + name.encode()
        + b'"\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n'
    )


@pytest.mark.parametrize(
    "name", ["a" * 256, "é" * 128, "bad\x00name.txt", "..", "folder/", "folder/.."]
)
def test_unusable_file_names_are_422_and_leave_nothing(server: Server, name: str) -> None:
    """A file name over 255 bytes, with a NUL, or naming a folder is a 422 on `filename`,
    and no upload folder is left behind."""
    before = _uploads(server)
    multipart = {"Content-Type": "multipart/form-data; boundary=b"}
    with server.client() as client:
        for response in (
            client.post("/v1/files", files={"content": ("x.txt", b"x")}, data={"filename": name}),
            client.post("/v1/files", content=_raw_upload(name), headers=multipart),
        ):
            assert response.status_code == 422, response.text
            assert response.json()["invalid_fields"][0]["field"] == "filename"
    assert _uploads(server) == before


def test_longest_file_name_is_accepted(server: Server) -> None:
    """A 255-byte file name is kept as it was sent."""
    name = "a" * 251 + ".txt"
    with server.client() as client:
        response = client.post("/v1/files", files={"content": (name, b"x")})
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name


def test_bracketed_metadata_fields_are_stored(server: Server) -> None:
    """`metadata[key]` fields, the form the Python client 2.x sends (its multipart encoding of
    a dict), become the file's metadata."""
    with server.client() as client:
        response = client.post(
            "/v1/files",
            files={"content": ("a.txt", b"x")},
            data={"metadata[purpose]": "test", "metadata[run][id]": "7"},
        )
    assert response.status_code == 201, response.text
    assert response.json()["metadata"] == {"purpose": "test", "run": {"id": "7"}}


def test_text_content_field_is_the_file(server: Server) -> None:
    """`content` as a plain text field with `filename` and `type` (Replicate's MCP server)
    is the file's content."""
    with server.client() as client:
        response = client.post(
            "/v1/files",
            files={"filename": (None, "notes.md"), "type": (None, "text/markdown"),
                   "content": (None, "# hello")},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        created = response.json()
        assert (created["name"], created["content_type"], created["size"]) == (
            "notes.md", "text/markdown", 7,
        )  # fmt: skip
        assert client.get(f"/v1/files/{created['id']}/download").content == b"# hello"


async def test_bytes_are_streamed_from_a_store_without_local_paths(
    tmp_path: pathlib.Path,
) -> None:
    """Where the file store has no local path, a download streams the stored bytes with
    their length and name; a missing file or a bad key is a 404."""
    local = LocalFiles(tmp_path / "files")
    data = b"x" * (3 * 1024 * 1024)
    await local.put("uploads/f1/a b.txt", data)
    files: FileStore = Elsewhere(local)  # type: ignore[assignment]
    response = await _bytes(files, "uploads/f1/a b.txt", "text/plain", "a b.txt")
    assert isinstance(response, StreamingResponse)
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["content-disposition"] == "attachment; filename*=utf-8''a%20b.txt"
    body = b""
    async for chunk in response.body_iterator:
        assert isinstance(chunk, bytes)
        body += chunk
    assert body == data
    for key in ("uploads/f1/gone.txt", "uploads/../x"):
        with pytest.raises(NotFound):
            await _bytes(files, key, None, None)
