"""Durations, counts and signatures in headers and query strings: bad ones are 4xx, never 500,
and a refused request leaves no prediction behind."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.server import Server

_HUGE = "9" * 5000


def _problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"] and body["title"]
    if field is not None:
        assert [f["field"] for f in body["invalid_fields"]] == [field]
    return body


def _prediction_ids(client: httpx.Client) -> set[str]:
    return {p["id"] for p in client.get("/v1/predictions").json()["results"]}


@pytest.mark.parametrize(
    "value", ["inf", "nan", "-inf", "1e308", "1e999", "99999999999999h", "31d", "-5", "", "٥s"]
)
def test_bad_cancel_after_is_422_and_creates_nothing(server: Server, value: str) -> None:
    """A Cancel-After that is not a finite duration of 5 s to 30 days is a 422 naming it."""
    with server.client() as client:
        before = _prediction_ids(client)
        response = client.post(
            "/v1/models/acme/echo/predictions",
            json={"input": {}},
            headers={b"Cancel-After": value.encode()},  # as sent: UTF-8 bytes
        )
        _problem(response, 422, "Cancel-After")
        assert _prediction_ids(client) == before


@pytest.mark.parametrize("value", ["1e999", "inf", 1e308, "2592001", True, [5], {"s": 5}])
def test_bad_lifetime_is_422(server: Server, value: object) -> None:
    """A `lifetime` that is not a bounded duration is a 422 naming `lifetime`."""
    with server.client() as client:
        response = client.post(
            "/v1/models/acme/echo/predictions", json={"input": {}, "lifetime": value}
        )
        _problem(response, 422, "lifetime")


def test_long_but_bounded_deadline_is_accepted(server: Server) -> None:
    """A 30-day deadline (the longest) is accepted and shown as `deadline`."""
    with server.client() as client:
        response = client.post(
            "/v1/models/acme/echo/predictions",
            json={"input": {}},
            headers={"Cancel-After": "720h"},
        )
        assert response.status_code == 201, response.text
        assert response.json()["deadline"]


@pytest.mark.parametrize("value", ["wait=²", f"wait={_HUGE}", "wait=abc", "wait=-1", "wait=1.5"])
def test_bad_prefer_wait_is_422_and_creates_nothing(server: Server, value: str) -> None:
    """A `Prefer: wait=` value that is not a whole number is a 422 naming Prefer."""
    with server.client() as client:
        before = _prediction_ids(client)
        response = client.post(
            "/v1/models/acme/echo/predictions",
            json={"input": {}},
            headers={b"Prefer": value.encode()},
        )
        _problem(response, 422, "Prefer")
        assert _prediction_ids(client) == before


def test_large_prefer_wait_is_clamped(server: Server) -> None:
    """`Prefer: wait=999999` waits at most 60 s, as Replicate's docs say."""
    with server.client() as client:
        response = client.post(
            "/v1/models/acme/echo/predictions",
            json={"input": {}},
            headers={"Prefer": "wait=999999"},
        )
        assert response.status_code == 201
        assert response.headers["preference-applied"] == "wait"


@pytest.mark.parametrize("value", ["null", "abc", "²", _HUGE, "-1", "1.5"])
def test_bad_search_limit_is_422(server: Server, value: str) -> None:
    """`?limit=` on search must be a whole number: 422 naming `limit` otherwise."""
    with server.client() as client:
        response = client.get("/v1/search", params={"query": "echo", "limit": value})
        _problem(response, 422, "limit")
        assert client.get("/v1/search", params={"query": "echo", "limit": "1"}).status_code == 200


@pytest.mark.parametrize("value", ["²", _HUGE, "abc", "-2"])
def test_bad_last_event_id_is_422(server: Server, value: str) -> None:
    """A Last-Event-ID (header or query) that is not a sequence number (or -1, before the first
    event: the queue-position notes carry it) is a 422 naming it."""
    with server.client() as client:
        created = client.post("/v1/models/acme/echo/predictions", json={"input": {}}).json()
        stream = created["urls"]["stream"]
        _problem(
            httpx.get(stream, headers={b"Last-Event-ID": value.encode()}), 422, "Last-Event-ID"
        )
        _problem(httpx.get(stream, params={"last_event_id": value}), 422, "last_event_id")


def test_non_ascii_stream_tag_is_404(server: Server) -> None:
    """A stream URL whose tag is not ASCII is simply not ours: 404, not a crash."""
    with server.client() as client:
        created = client.post("/v1/models/acme/echo/predictions", json={"input": {}}).json()
    stream = created["urls"]["stream"]
    tampered = stream.rsplit("/", 1)[0] + "/%C3%A9" + stream.rsplit("/", 1)[1][1:]
    _problem(httpx.get(tampered), 404)


def _output_url(server: Server) -> str:
    with server.client() as client:
        done = client.post(
            "/v1/models/acme/path_output/predictions",
            json={"input": {"text": "hi"}},
            headers={"Prefer": "wait"},
        ).json()
    assert done["status"] == "succeeded", done
    url: str = done["output"]
    return url


@pytest.mark.parametrize(
    ("expiry", "signature"),
    [(None, "%C3%A9t%C3%A9"), (None, "%E2%80%8B"), ("%C2%B2", None), ("9" * 5000, None)],
)
def test_tampered_output_urls_are_404(
    server: Server, expiry: str | None, signature: str | None
) -> None:
    """An output URL with a non-ASCII signature or a huge or odd expiry is 404, not 500."""
    url = _output_url(server)
    base, query = url.split("?", 1)
    params = dict(pair.split("=", 1) for pair in query.split("&"))
    params["expiry"] = expiry or params["expiry"]
    params["signature"] = signature or params["signature"]
    tampered = base + "?" + "&".join(f"{k}={v}" for k, v in params.items())
    assert httpx.get(url).status_code == 200
    _problem(httpx.get(tampered), 404)


def test_tampered_own_output_url_as_input_is_422(server: Server) -> None:
    """This server's output URL with a non-ASCII signature, given as a file input, is a 422
    on that input."""
    url = _output_url(server).split("&signature=")[0] + "&signature=%C3%A9"
    with server.client() as client:
        response = client.post(
            "/v1/models/acme/path_input/predictions", json={"input": {"image": url}}
        )
        _problem(response, 422, "input.image")


@pytest.mark.parametrize("route", ["/v1/predictions", "/v1/files", "/v1/models", "/predictions"])
@pytest.mark.parametrize("value", ["null", "abc", "0", "101", _HUGE])
def test_bad_listing_limit_is_422(server: Server, route: str, value: str) -> None:
    """Every listing reads `?limit=` (1-100): anything else is a 422 naming `limit`."""
    with server.client() as client:
        _problem(client.get(route, params={"limit": value}), 422, "limit")


def test_listing_limit_pages_through_everything(server: Server) -> None:
    """`?limit=N` gives pages of N, and the `next` link keeps the limit."""
    with server.client() as client:
        for _ in range(3):
            client.post("/v1/models/acme/echo/predictions", json={"input": {}})
        page = client.get("/v1/predictions", params={"limit": "2"}).json()
        assert len(page["results"]) == 2 and "limit=2" in page["next"]
        assert len(client.get(page["next"]).json()["results"]) >= 1
