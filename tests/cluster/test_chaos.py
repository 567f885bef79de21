"""Chaos: a bounded load on a real cluster while a worker is killed, an API node is killed
and Redis is restarted (losing everything: it keeps nothing on disk here). Afterwards every
accepted prediction has ended, each `completed` webhook arrived exactly once, and nothing ran
twice."""

from __future__ import annotations

import collections
import concurrent.futures
import itertools
import json
import pathlib
import subprocess
import threading
import time
from typing import Any

import httpx
import pytest
import redis

from tests.cluster.cluster import REDIS_URL, Cluster, wait_for_model
from tests.receiver import Receiver
from tests.server import Server, free_port

pytestmark = pytest.mark.timeout(420)

TOTAL = 240
TERMINAL = ("succeeded", "failed", "canceled")
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
    "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip


def restart_redis() -> None:
    """Stop the machine's Redis without saving (it keeps nothing anyway), start it again, and
    return once it answers."""
    with redis.Redis.from_url(REDIS_URL) as client:
        try:
            client.shutdown(nosave=True)
        except redis.ConnectionError:
            pass  # shutting down closes the connection that asked
    subprocess.run(REDIS_START, check=True, capture_output=True)
    deadline = time.monotonic() + 20
    while True:
        try:
            with redis.Redis.from_url(REDIS_URL) as client:
                if client.ping():
                    return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Load:
    """Creates predictions round-robin over the API nodes that are up; some with a webhook,
    some streamed, some canceled; remembers every one that was accepted (201)."""

    def __init__(self, apis: list[Server], hook: str) -> None:
        self.apis = apis
        self.down: set[int] = set()
        self.hook = hook
        self.accepted: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.turn = itertools.count()

    def node(self) -> Server:
        while True:
            index = next(self.turn) % len(self.apis)
            if index not in self.down:
                return self.apis[index]

    def one(self, n: int) -> None:
        body: dict[str, Any] = {"input": {"seconds": 0.05}}
        if n % 3 == 0:
            body |= {"webhook": self.hook, "webhook_events_filter": ["completed"]}
        if n % 5 == 0:
            body["stream"] = True
        for _ in range(50):  # a node that died mid-request: try the next one
            api = self.node()
            try:
                with api.client() as client:
                    made = client.post("/v1/models/test/whoami/predictions", json=body)
                    if made.status_code != 201:
                        continue  # nothing was created; the client retries
                    prediction = made.json()
                    with self.lock:
                        self.accepted[prediction["id"]] = body
                    if n % 7 == 0:
                        client.post(f"/v1/predictions/{prediction['id']}/cancel")
                    elif "stream" in body:
                        self.read_stream(client, prediction["urls"]["stream"])
                    return
            except httpx.TransportError:
                continue
        raise AssertionError(f"prediction {n} was never accepted")

    def read_stream(self, client: httpx.Client, url: str) -> None:
        try:
            with client.stream("GET", url, headers={"Accept": "text/event-stream"}) as sse:
                for line in sse.iter_lines():
                    if line == "event: done":
                        return
        except httpx.TransportError:
            pass  # its node was killed: the prediction is checked at the end


def test_chaos(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    receiver = Receiver(tmp_path / "hooks.jsonl", free_port()).start()
    try:
        _run_chaos(cluster, receiver)
    finally:
        receiver.stop()


def _run_chaos(cluster: Cluster, receiver: Receiver) -> None:
    apis = [cluster.start_api(), cluster.start_api()]
    model = cluster.model("whoami")
    victim, survivor = cluster.start_worker(model), cluster.start_worker(model)
    wait_for_model(apis[1], "test/whoami")
    load = Load(apis, receiver.url)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(load.one, n) for n in range(TOTAL)]
        _when(lambda: len(load.accepted) >= TOTAL // 4)
        victim.kill()
        _when(lambda: len(load.accepted) >= TOTAL // 2)
        load.down.add(0)
        apis[0].kill()
        _when(lambda: len(load.accepted) >= 3 * TOTAL // 4)
        restart_redis()
        for future in futures:
            future.result()
    assert len(load.accepted) == TOTAL
    ended = _all_ended(apis[1], list(load.accepted))
    counts = collections.Counter(p["status"] for p in ended.values())
    assert set(counts) <= set(TERMINAL), counts
    # the only failures are what the killed worker was running when it died
    for prediction in ended.values():
        if prediction["status"] == "failed":
            assert "its lease expired" in str(prediction["error"]), prediction
    # nothing ran twice: each prediction's logs say where it ran at most once
    for prediction in ended.values():
        assert str(prediction["logs"] or "").count("running on") <= 1, prediction
    # those that ran to the end ran on a worker that was up
    succeeded_on = {p["output"] for p in ended.values() if p["status"] == "succeeded"}
    assert succeeded_on <= {str(victim.pid), str(survivor.pid)}
    hooked = [pid for pid, body in load.accepted.items() if "webhook" in body]
    _when(lambda: _completed_ids(receiver) >= set(hooked), timeout=60)
    per_id = collections.Counter(
        body["id"] for body in receiver.bodies() if body["status"] in TERMINAL
    )
    assert all(per_id[pid] == 1 for pid in hooked), {p: per_id[p] for p in hooked if per_id[p] != 1}
    print(json.dumps({"statuses": counts}, default=str))


def _completed_ids(receiver: Receiver) -> set[str]:
    return {body["id"] for body in receiver.bodies() if body["status"] in TERMINAL}


def _all_ended(api: Server, ids: list[str], timeout: float = 120) -> dict[str, dict[str, Any]]:
    """Each prediction once it ended (the killed worker's after their leases expired)."""
    deadline = time.monotonic() + timeout
    ended: dict[str, dict[str, Any]] = {}
    with api.client() as client:
        while len(ended) < len(ids):
            for pid in ids:
                if pid not in ended:
                    body = client.get(f"/v1/predictions/{pid}").json()
                    if body["status"] in TERMINAL:
                        ended[pid] = body
            if time.monotonic() > deadline:
                left = [
                    client.get(f"/v1/predictions/{pid}").json() for pid in ids if pid not in ended
                ]
                raise AssertionError(f"{len(left)} never ended, e.g. {left[:3]}")
            time.sleep(0.2)
    return ended


def _when(condition: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the load stalled"
        time.sleep(0.02)
