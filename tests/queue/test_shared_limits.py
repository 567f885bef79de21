"""The limits of a cluster's API nodes are one: two `foretell serve` nodes over PostgreSQL
and a Redis queue share each token's rate limit and each model's --max-queue (counted in
Redis, never a node's memory), whichever node a request reaches."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest
import redis

from tests.api.test_backpressure import burst
from tests.cluster.cluster import (
    Cluster,
    create_database,
    drop_database,
    wait_for_model,
    wait_status,
)
from tests.server import Server, start_server, wait_done

#: this suite's Redis database (issue 13's helpers use db 13), flushed before and after
REDIS_URL = "redis://127.0.0.1:6379/13"
MODEL = "/v1/models/test/sleep/predictions"


def _flush() -> None:
    with redis.Redis.from_url(REDIS_URL) as client:
        client.flushdb()


@pytest.fixture
def cluster(tmp_path: pathlib.Path) -> Iterator[Cluster]:
    _flush()
    database = create_database()
    made = Cluster(tmp_path, database, queue=REDIS_URL)
    try:
        yield made
    finally:
        made.stop()
        drop_database(database)
        _flush()


def _api(cluster: Cluster, *args: str) -> Server:
    """An API node with the cluster's engines and `args` (models first, then options)."""
    token = cluster.apis[0].token if cluster.apis else None
    root = cluster.root / f"api-{len(cluster.apis)}"
    server = start_server(root, [], *args, *cluster.engine_args(), token=token, wait_models=False)
    cluster.apis.append(server)
    return server


def test_two_api_nodes_share_a_tokens_rate_limit(cluster: Cluster) -> None:
    """1/m with bursts of 3: three requests in all, over either node, then both say 429."""
    nodes = [_api(cluster, "--rate-limit", "1/m", "--rate-burst", "3") for _ in range(2)]
    answers = []
    for n in range(6):
        with nodes[n % 2].client() as http:
            answers.append(http.get("/v1/predictions"))
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429, 429]
    assert int(answers[-1].headers["Retry-After"]) > 30


def test_a_burst_over_two_api_nodes_never_queues_past_the_cap(cluster: Cluster) -> None:
    """--max-queue 3 on both, 12 creates at once over the two: 3 queued, 9 refused 429
    with Retry-After and never created."""
    model = cluster.model("sleep")
    first = _api(cluster, model, "--max-queue", "3")
    second = _api(cluster, "--max-queue", "3")
    for node in (first, second):
        wait_for_model(node, "test/sleep")
    with first.client() as http:
        blocker = http.post(MODEL, json={"input": {"seconds": 60}}).json()["id"]
        wait_status(http, blocker, ("processing",))  # its slot busy, what follows waits
        answers = burst([first.url, second.url], first.token, MODEL, 6)
        created = [r.json()["id"] for r in answers if r.status_code == 201]
        refused = [r for r in answers if r.status_code != 201]
        assert len(created) == 3 and {r.status_code for r in refused} == {429}
        assert all(r.headers["Retry-After"] == "5" for r in refused)
        listed = {p["id"] for p in http.get("/v1/predictions").json()["results"]}
        assert listed == {blocker, *created}
        http.post(f"/v1/predictions/{blocker}/cancel")
        assert all(wait_done(http, p, 60)["status"] == "succeeded" for p in created)
