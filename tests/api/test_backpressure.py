"""Backpressure through a real `foretell serve`: the queue cap and the rate limit answer 429
with nothing created, priorities and fair share order the queue, a queue TTL cancels what
waited too long, and a waiting prediction shows its place in the queue.

The sleep fixture runs one prediction at a time: a `blocker` holds that slot while the
predictions under test queue up behind it, and is canceled to let them run.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import replicate.exceptions

from tests.server import Server, fixture_model, official_client, start_server, wait_done

MODEL = "/v1/models/acme/sleep/predictions"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("backpressure")
    model = f"acme/sleep={fixture_model(tmp, 'sleep')}"
    started = start_server(tmp / "data", [model], "--max-queue", "4")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("rate")
    model = f"acme/echo={fixture_model(tmp, 'echo')}"
    started = start_server(tmp / "data", [model], "--rate-limit", "1/s", "--rate-burst", "3")
    yield started
    started.stop()


def _token(server: Server, account: str) -> str:
    """A new token of `account`, made as a user makes one."""
    created = subprocess.run(
        [sys.executable, "-m", "foretell", "tokens", "create", "--account", account,
         "--data-dir", str(server.data_dir)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return created.stdout.split()[-1]


def _create(
    http: httpx.Client, seconds: float = 0, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = http.post(MODEL, json={"input": {"seconds": seconds}}, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _until(http: httpx.Client, prediction_id: str, status: str) -> dict[str, Any]:
    """Poll until the prediction reaches `status` (the event this test waits on)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        prediction: dict[str, Any] = http.get(f"/v1/predictions/{prediction_id}").json()
        if prediction["status"] == status:
            return prediction
        time.sleep(0.05)
    raise TimeoutError(f"{prediction_id} never became {status}")


def _blocker(http: httpx.Client) -> str:
    """A prediction holding the model's one slot until canceled."""
    blocker = _create(http, 60)
    _until(http, blocker["id"], "processing")
    return str(blocker["id"])


def _started_order(http: httpx.Client, ids: list[str]) -> list[str]:
    """`ids` in the order they started, once all are done."""
    done = {i: wait_done(http, i, 60) for i in ids}
    assert all(p["status"] == "succeeded" for p in done.values()), done
    return sorted(ids, key=lambda i: done[i]["started_at"])


def test_a_full_queue_is_429_with_retry_after_and_nothing_created(server: Server) -> None:
    """With --max-queue 4 and 4 waiting, a create is refused before anything is stored."""
    with server.client() as http:
        blocker = _blocker(http)
        waiting = [_create(http)["id"] for _ in range(4)]
        before = {p["id"] for p in http.get("/v1/predictions").json()["results"]}
        response = http.post(MODEL, json={"input": {"seconds": 0}})
        assert response.status_code == 429, response.text
        assert response.headers["Retry-After"] == "5"
        problem = response.json()
        assert problem["status"] == 429 and "queue of acme/sleep is full" in problem["detail"]
        after = {p["id"] for p in http.get("/v1/predictions").json()["results"]}
        assert after == before
        http.post(f"/v1/predictions/{blocker}/cancel")
        _started_order(http, waiting)
        assert http.post(MODEL, json={"input": {"seconds": 0}}).status_code == 201


def burst(urls: list[str], token: str, path: str, count: int) -> list[httpx.Response]:
    """`count` creates sent at once to each of `urls` (each on its own connection)."""

    async def send() -> list[httpx.Response]:
        headers = {"Authorization": f"Bearer {token}"}
        clients = [httpx.AsyncClient(base_url=u, headers=headers, timeout=60) for u in urls]
        body = {"input": {"seconds": 0}}
        try:
            sends = (http.post(path, json=body) for http in clients for _ in range(count))
            return list(await asyncio.gather(*sends))
        finally:
            for http in clients:
                await http.aclose()

    return asyncio.run(send())


def test_a_concurrent_burst_never_queues_past_the_cap(server: Server) -> None:
    """16 creates at once against --max-queue 4: 4 are queued, 12 are 429 with Retry-After
    and were never created."""
    with server.client() as http:
        blocker = _blocker(http)
        before = {p["id"] for p in http.get("/v1/predictions").json()["results"]}
        answers = burst([server.url], server.token, MODEL, 16)
        created = [r.json()["id"] for r in answers if r.status_code == 201]
        refused = [r for r in answers if r.status_code != 201]
        assert len(created) == 4
        assert {r.status_code for r in refused} == {429}
        assert {r.headers["Retry-After"] for r in refused} == {"5"}
        after = {p["id"] for p in http.get("/v1/predictions").json()["results"]}
        assert after - before == set(created)
        http.post(f"/v1/predictions/{blocker}/cancel")
        _started_order(http, created)


def test_priority_zero_runs_before_one_and_two(server: Server) -> None:
    """Queued at 2, 1, 1, then 0 (field or header): they run 0, 1, 1, 2."""
    with server.client() as http:
        blocker = _blocker(http)
        low = _create(http, headers={"X-Foretell-Priority": "2"})["id"]
        mid = [http.post(MODEL, json={"input": {"seconds": 0}, "priority": 1}).json()["id"]]
        mid.append(_create(http, headers={"X-Foretell-Priority": "1"})["id"])
        response = http.post(MODEL, json={"input": {"seconds": 0}, "priority": 0})
        high = response.json()["id"]
        assert response.json()["queue_position"] == 0
        assert http.get(f"/v1/predictions/{low}").json()["priority"] == 2
        http.post(f"/v1/predictions/{blocker}/cancel")
        assert _started_order(http, [low, *mid, high]) == [high, *mid, low]


def test_a_bad_priority_is_422(server: Server) -> None:
    with server.client() as http:
        response = http.post(MODEL, json={"input": {}, "priority": 5})
        assert response.status_code == 422
        assert response.json()["invalid_fields"][0]["field"] == "priority"


def test_queue_position_in_the_prediction_and_its_logs(server: Server) -> None:
    """A waiting prediction says how many go before it; once it runs, it says nothing."""
    with server.client() as http:
        blocker = _blocker(http)
        first, second = _create(http)["id"], _create(http)["id"]
        shown = http.get(f"/v1/predictions/{second}").json()
        assert shown["queue_position"] == 1
        assert shown["logs"].endswith("Waiting in the queue: 1 ahead\n")
        assert "queue_position" not in http.get(f"/v1/predictions/{blocker}").json()
        with official_client(server) as client:  # the official client takes the extra field
            assert client.predictions.get(second).status == "starting"
        http.post(f"/v1/predictions/{blocker}/cancel")
        done = wait_done(http, second, 60)
        assert "queue_position" not in done and "Waiting in the queue" not in done["logs"]
        wait_done(http, first, 60)


def _sse(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """Each SSE event (its fields, data lines joined) as it arrives; comments skipped."""
    fields: dict[str, str] = {}
    for line in lines:
        if not line:
            if fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = f"{fields[name]}\n{value}" if name in fields else value


def test_queue_position_in_the_sse_stream(server: Server) -> None:
    """A waiting prediction's stream says where it is as a `logs` event with an id, again
    when it moves up; resuming from that id (-1: before any event) misses nothing."""
    with server.client() as http:
        blocker = _blocker(http)
        first, second = _create(http)["id"], _create(http)
        url = second["urls"]["stream"]
        with httpx.stream("GET", url, timeout=30) as response:
            events = _sse(response.iter_lines())
            assert next(events) == {
                "event": "logs", "id": "-1", "data": "Waiting in the queue: 1 ahead\n",
            }  # fmt: skip
            http.post(f"/v1/predictions/{first}/cancel")
            assert next(events)["data"] == "Waiting in the queue: 0 ahead\n"
        with httpx.stream("GET", url, headers={"Last-Event-ID": "-1"}, timeout=30) as response:
            events = _sse(response.iter_lines())
            assert next(events)["data"] == "Waiting in the queue: 0 ahead\n"
            http.post(f"/v1/predictions/{second['id']}/cancel")
            assert next(events) == {"event": "done", "id": "0", "data": '{"reason":"canceled"}'}
        http.post(f"/v1/predictions/{blocker}/cancel")


def test_the_official_client_streams_past_its_queue_notes(server: Server) -> None:
    """replicate.stream (Python client 1.x) takes the notes as logs events, and the output
    after them arrives whole (not merged into a note)."""
    with server.client() as http, official_client(server) as client:
        blocker = _blocker(http)
        stream = client.stream("acme/sleep", input={"seconds": 0})
        note = next(stream)
        assert (note.event.value, note.data) == ("logs", "Waiting in the queue: 0 ahead\n")
        assert str(note) == ""  # print(str(event)) loops print output only
        http.post(f"/v1/predictions/{blocker}/cancel")
        rest = [(event.event.value, event.data) for event in stream]
        assert ("output", "woke up") in rest and rest[-1] == ("done", "{}")
        assert [d for e, d in rest if e == "logs"] == ["going to sleep\n"]


def test_a_queue_ttl_cancels_what_waited_too_long(server: Server) -> None:
    """X-Foretell-Queue-TTL: 1 behind a busy slot: canceled with the reason, never run."""
    with server.client() as http:
        blocker = _blocker(http)
        expiring = _create(http, headers={"X-Foretell-Queue-TTL": "1"})["id"]
        kept = http.post(MODEL, json={"input": {"seconds": 0}, "queue_ttl": 600}).json()["id"]
        ended = wait_done(http, expiring, 30)
        assert ended["status"] == "canceled" and ended["started_at"] is None
        assert ended["error"] == (
            "Prediction canceled: it waited in the queue longer than its queue time-to-live (1 s)."
        )
        assert http.get(f"/v1/predictions/{kept}").json()["status"] == "starting"
        http.post(f"/v1/predictions/{blocker}/cancel")
        assert wait_done(http, kept, 60)["status"] == "succeeded"


def test_a_queue_ttl_leaves_a_prediction_that_started_in_time_alone(server: Server) -> None:
    """A TTL shorter than the run: it left the queue in time, so it runs to the end."""
    with server.client() as http:
        started = _create(http, 2, headers={"X-Foretell-Queue-TTL": "1"})["id"]
        _until(http, started, "processing")
        assert wait_done(http, started, 60)["status"] == "succeeded"


def test_fair_share_between_two_accounts(server: Server) -> None:
    """Account A queues 3, then account B one: B's runs first or second, not fourth."""
    tokens = {name: _token(server, name) for name in ("burst", "other")}
    with server.client(tokens["burst"]) as a, server.client(tokens["other"]) as b:
        blocker = _blocker(a)
        bursts = [_create(a)["id"] for _ in range(3)]
        single = _create(b)["id"]
        a.post(f"/v1/predictions/{blocker}/cancel")
        started = [wait_done(a, p, 60)["started_at"] for p in bursts]
        theirs = wait_done(b, single, 60)["started_at"]
        assert sorted([*started, theirs]).index(theirs) <= 1


def test_the_rate_limit_is_429_and_the_official_client_retries_it(limited: Server) -> None:
    """Past its burst a token gets 429 + Retry-After (nothing created); the official
    Python client waits and retries its GETs (it doesn't retry a POST, the JS client does)."""
    with limited.client() as http:
        created = http.post("/v1/models/acme/echo/predictions", json={"input": {"text": "x"}})
        assert created.status_code == 201
        answers = [http.get("/v1/predictions").status_code for _ in range(5)]
        assert 429 in answers
        refused = http.post("/v1/models/acme/echo/predictions", json={"input": {"text": "y"}})
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
        assert "throttled" in refused.json()["detail"]
        with official_client(limited) as client:
            again = client.predictions.get(created.json()["id"])  # 429, then retried
            assert again.id == created.json()["id"]
            while http.get("/v1/predictions").status_code != 429:
                pass  # use up the bucket, so the POST below meets the limit
            with pytest.raises(replicate.exceptions.ReplicateError) as refused_post:
                client.models.predictions.create("acme/echo", input={"text": "z"})
            assert refused_post.value.status == 429
        listed = _listed(http)
        assert [p["id"] for p in listed] == [created.json()["id"]]


def _listed(http: httpx.Client) -> list[dict[str, Any]]:
    """GET /v1/predictions, waiting out the rate limit as a client should."""
    while True:
        response = http.get("/v1/predictions")
        if response.status_code != 429:
            results: list[dict[str, Any]] = response.json()["results"]
            return results
        time.sleep(float(response.headers["Retry-After"]))
