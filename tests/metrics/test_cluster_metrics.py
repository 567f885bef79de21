"""Metrics and health on the cluster shape: a worker's --metrics-port, and /ready of an API
node whose PostgreSQL goes away (through a TCP proxy taken down)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.cluster.cluster import Cluster, create_database, drop_database, wait_for_model
from tests.metrics.scrape import sample, scrape, wait_sample
from tests.server import free_port, wait_done
from tests.store.test_postgres import Proxy


def test_a_worker_serves_its_metrics_health_and_readiness(cluster: Cluster) -> None:
    api = cluster.start_api()
    port = free_port()
    worker = cluster.start_worker(cluster.model("echo"), "--metrics-port", str(port))
    assert any(f"metrics at http://127.0.0.1:{port}/metrics" in line for line in worker.output)
    wait_for_model(api, "test/echo")
    with api.client() as client:
        created = client.post(
            "/v1/models/test/echo/predictions", json={"input": {"text": "hi"}}
        ).json()
        assert wait_done(client, created["id"], 60)["status"] == "succeeded"
    url = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{url}/ready")
    assert ready.status_code == 200, ready.text
    # the worker ran it (and ended it): its counts and times are the worker's
    on_worker = wait_sample(
        url, "foretell_predictions_total", 1, model="test/echo", status="succeeded"
    )
    assert sample(on_worker, "foretell_predict_seconds_count", model="test/echo") == 1
    assert sample(on_worker, "foretell_queue_depth", model="test/echo") == 0
    # the API node created it; it ran nothing
    on_api = scrape(api.url)
    assert sample(on_api, "foretell_predictions_queued_total", model="test/echo") == 1
    total = "foretell_predictions_total"
    assert sample(on_api, total, model="test/echo", status="succeeded") is None
    assert sample(on_api, "foretell_queue_depth", model="test/echo") == 0


def test_a_worker_without_metrics_port_serves_nothing(cluster: Cluster) -> None:
    cluster.start_api()
    worker = cluster.start_worker(cluster.model("echo"))
    assert not any("metrics at" in line for line in worker.output)


@pytest.mark.timeout(180)
async def test_ready_is_503_while_the_database_is_unreachable(cluster: Cluster) -> None:
    """The store stops answering: /ready says 503, which check failed, and Retry-After;
    /health still answers; once the database is back, /ready is 200 again."""
    proxy = Proxy()
    await proxy.up()
    database = await asyncio.to_thread(create_database)
    proxied = database.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    try:
        api = await asyncio.to_thread(cluster.start_api, database=proxied)
        async with httpx.AsyncClient(base_url=api.url, timeout=10) as client:
            assert (await client.get("/ready")).status_code == 200
            await proxy.down()
            started = time.monotonic()
            response = await client.get("/ready")
            assert time.monotonic() - started < 3  # each check has 1 s
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "5"
            body = response.json()
            assert body["status"] == "unavailable"
            assert body["checks"]["store"] != "ok"
            assert (body["checks"]["queue"], body["checks"]["files"]) == ("ok", "ok")
            assert body["detail"].startswith("not ready: store: ")
            assert (await client.get("/health")).status_code == 200
            await proxy.up()
            deadline = time.monotonic() + 60
            while (await client.get("/ready")).status_code != 200:  # the pool reconnects
                assert time.monotonic() < deadline, "not ready 60 s after the database came back"
                await asyncio.sleep(0.1)  # polling the server's own answer, with a deadline
    finally:
        await asyncio.to_thread(cluster.stop)
        await proxy.down()
        await asyncio.to_thread(drop_database, database)
