"""SSE streams of predictions, read by the official Python client and by raw HTTP."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.server import Server, official_client


def _events(text: str) -> list[tuple[str, str, str]]:
    """(id, event, data) of each SSE event in a response body."""
    events = []
    for block in text.split("\n\n"):
        fields: dict[str, list[str]] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields.setdefault(name, []).append(value)
        if "event" in fields:
            events.append((fields["id"][0], fields["event"][0], "\n".join(fields.get("data", []))))
    return events


def test_official_python_client_streams_tokens_as_they_come(server: Server) -> None:
    """replicate.stream yields each token when the model yields it."""
    start, arrivals = time.monotonic(), []
    with official_client(server) as client:
        for event in client.stream("acme/stream_tokens", input={"n": 4, "delay": 0.3}):
            if getattr(event.event, "value", event.event) == "output":
                arrivals.append((time.monotonic() - start, str(event)))
    assert [token for _, token in arrivals] == ["tok0 ", "tok1 ", "tok2 ", "tok3 "]
    assert arrivals[-1][0] - arrivals[0][0] > 0.5  # spread out: streamed, not batched


def test_late_reader_gets_everything_then_done(server: Server) -> None:
    """Connecting after the prediction finished replays its events, ending with done."""
    with server.client() as client:
        created = client.post(
            "/v1/models/acme/stream_tokens/predictions",
            json={"input": {"n": 3}},
            headers={"Prefer": "wait"},
        ).json()
    response = httpx.get(created["urls"]["stream"], headers={"Accept": "text/event-stream"})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    assert [(e, d) for _, e, d in events] == [
        ("output", "tok0 "),
        ("output", "tok1 "),
        ("output", "tok2 "),
        ("done", "{}"),
    ]
    assert [int(i) for i, _, _ in events] == sorted(int(i) for i, _, _ in events)


def test_resume_with_last_event_id(server: Server) -> None:
    """A reader that reconnects with Last-Event-ID gets only what came after."""
    with server.client() as client:
        created = client.post(
            "/v1/models/acme/stream_tokens/predictions",
            json={"input": {"n": 5}},
            headers={"Prefer": "wait"},
        ).json()
    url = created["urls"]["stream"]
    everything = _events(httpx.get(url).text)
    resumed = _events(httpx.get(url, headers={"Last-Event-ID": everything[1][0]}).text)
    assert resumed == everything[2:]


def test_failed_and_canceled_predictions_end_with_a_reason(server: Server) -> None:
    """A canceled stream ends with done {"reason": "canceled"}."""
    with server.client() as client:
        created = client.post(
            "/v1/models/acme/sleep/predictions", json={"input": {"seconds": 30}}
        ).json()
        time.sleep(0.3)
        client.post(f"/v1/predictions/{created['id']}/cancel")
    events = _events(httpx.get(created["urls"]["stream"]).text)
    assert events[-1][1:] == ("done", '{"reason":"canceled"}')


def test_stream_url_is_bound_to_its_prediction(server: Server) -> None:
    """A tampered stream URL is a 404; the real one needs no auth header."""
    with server.client() as client:
        created = client.post("/v1/models/acme/echo/predictions", json={"input": {}}).json()
    url = created["urls"]["stream"]
    assert httpx.get(url[:-2] + "xx").status_code == 404


def test_fifty_concurrent_readers(server: Server) -> None:
    """Fifty readers of one streaming prediction all receive every token."""
    with server.client() as client:
        created = client.post(
            "/v1/models/acme/stream_tokens/predictions", json={"input": {"n": 200, "delay": 0.005}}
        ).json()

    async def read_all() -> list[list[tuple[str, str, str]]]:
        async with httpx.AsyncClient(timeout=30) as http:
            responses = await asyncio.gather(
                *(http.get(created["urls"]["stream"]) for _ in range(50))
            )
        return [_events(r.text) for r in responses]

    for events in asyncio.run(read_all()):
        outputs = [d for _, e, d in events if e == "output"]
        assert outputs == [f"tok{i} " for i in range(200)]
        assert events[-1][1] == "done"


def test_keep_alive_comments_while_the_model_is_quiet(tmp_path) -> None:
    """A quiet model's stream carries `:` keep-alive comments, then its events."""
    import os

    from tests.server import fixture_model, start_server

    os.environ["FORETELL_SSE_KEEPALIVE_S"] = "0.2"
    try:
        server = start_server(tmp_path / "data", [f"acme/sleep={fixture_model(tmp_path, 'sleep')}"])
    finally:
        del os.environ["FORETELL_SSE_KEEPALIVE_S"]
    try:
        with server.client() as client:
            created = client.post(
                "/v1/models/acme/sleep/predictions", json={"input": {"seconds": 1}}
            ).json()
        body = httpx.get(created["urls"]["stream"], timeout=10).text
        assert body.count(": keep-alive") >= 2
        assert _events(body)[-1][1:] == ("done", "{}")
    finally:
        server.stop()
