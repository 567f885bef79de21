"""The Files API."""

from __future__ import annotations

import hashlib

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
