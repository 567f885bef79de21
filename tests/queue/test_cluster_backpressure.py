"""Priorities, fair share, queue TTL and queue position on the cluster shape: two API nodes
and a worker (separate processes) over PostgreSQL and Redis, so the order is the Redis
queue's and the TTL is met through the shared database by whichever node's sweeper comes
first."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.cluster.cluster import Cluster, cluster, wait_for_model, wait_status

MODEL = "/v1/models/test/sleep/predictions"
ENDED = ("succeeded", "failed", "canceled")

__all__ = ["cluster"]  # the fixture


def _token(cluster: Cluster, account: str) -> str:
    created = subprocess.run(
        [sys.executable, "-m", "foretell", "tokens", "create", "--account", account,
         "--database", cluster.database],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return created.stdout.split()[-1]


def _create(http: httpx.Client, seconds: float = 0, headers: dict[str, str] | None = None) -> str:
    response = http.post(MODEL, json={"input": {"seconds": seconds}}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_order_ttl_and_position_across_two_api_nodes(cluster: Cluster) -> None:
    """Behind A's busy slot: B's one goes first (A had its turn: the blocker), then A's burst;
    level 2 waits for level 0, a 1 s TTL cancels its prediction, and either node shows each
    one's position."""
    first, second = cluster.start_api(), cluster.start_api()
    cluster.start_worker(cluster.model("sleep"))
    wait_for_model(first, "test/sleep")
    other = _token(cluster, "other")
    with first.client() as a, second.client() as a2, second.client(other) as b:
        blocker = _create(a, 60)
        wait_status(a, blocker, ("processing",))
        low = _create(a2, headers={"X-Foretell-Priority": "2"})
        burst = [_create(a) for _ in range(3)]
        single = _create(b)
        expiring = _create(a, headers={"X-Foretell-Queue-TTL": "1"})
        positions = [_position(a2, p) for p in [*burst, expiring, low]]
        assert [*positions, _position(b, single)] == [1, 2, 3, 4, 5, 0]
        ended = wait_status(a2, expiring, ENDED, 30)
        assert ended["status"] == "canceled"
        assert "longer than its queue time-to-live (1 s)" in str(ended["error"])
        a.post(f"/v1/predictions/{blocker}/cancel")
        done = {p: wait_status(a, p, ENDED) for p in [*burst, low]}
        done[single] = wait_status(b, single, ENDED)
        assert all(p["status"] == "succeeded" for p in done.values()), done
        order = sorted(done, key=lambda p: str(done[p]["started_at"]))
        assert order == [single, *burst, low]


def _position(http: httpx.Client, prediction_id: str) -> int:
    body = http.get(f"/v1/predictions/{prediction_id}").json()
    assert body["logs"].endswith(f"Waiting in the queue: {body['queue_position']} ahead\n")
    return int(body["queue_position"])
