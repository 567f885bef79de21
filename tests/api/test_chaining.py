"""One model's output URL as the next model's input, the way Replicate users chain models:
the server recognises the URLs it signed and reads the file itself, with no fetch."""

from __future__ import annotations

from tests.server import Server


def _output_url(server: Server, text: str) -> str:
    with server.client() as client:
        first = client.post(
            "/v1/models/acme/path_output/predictions",
            json={"input": {"text": text}},
            headers={"Prefer": "wait"},
        ).json()
    assert first["status"] == "succeeded", first
    url: str = first["output"]
    return url


def test_output_url_feeds_the_next_model(server: Server) -> None:
    """A signed output URL of this server (a 127.0.0.1 address the guard would refuse to
    fetch) is accepted as a file input and read from storage."""
    url = _output_url(server, "chained text")
    with server.client() as client:
        second = client.post(
            "/v1/models/acme/path_input/predictions",
            json={"input": {"image": url}},
            headers={"Prefer": "wait"},
        ).json()
    assert second["status"] == "succeeded", second
    assert second["output"].split("|")[1:] == ["chained text", "True"]


def test_tampered_or_expired_output_url_is_a_clear_422(server: Server) -> None:
    """An output URL of this server whose signature doesn't check out is refused up front."""
    url = _output_url(server, "x")
    tampered = url.replace("signature=", "signature=A")
    with server.client() as client:
        response = client.post(
            "/v1/models/acme/path_input/predictions", json={"input": {"image": tampered}}
        )
    assert response.status_code == 422
    field = response.json()["invalid_fields"][0]
    assert field["field"] == "input.image"
    assert "invalid or has expired" in field["description"]
