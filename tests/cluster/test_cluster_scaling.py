"""A deployment's max_instances holds across the cluster: two workers that may each run
two instances never run more than the deployment allows, together."""

from __future__ import annotations

import concurrent.futures
from typing import Any

from tests.cluster.cluster import Cluster, wait_for_model, wait_status


def test_max_instances_holds_across_two_workers(cluster: Cluster) -> None:
    api = cluster.start_api()
    model = cluster.model("whoami")
    first = cluster.start_worker(model)  # publishes the version the deployment pins
    wait_for_model(api, "test/whoami")
    with api.client() as client:
        version = client.get("/v1/models/test/whoami").json()["latest_version"]["id"]
        made = client.post(
            "/v1/deployments",
            json={
                "name": "capped", "model": "test/whoami", "version": version,
                "hardware": "cpu", "min_instances": 0, "max_instances": 1,
            },
        )  # fmt: skip
        assert made.status_code in (200, 201), made.text
    first.stop()
    workers = [cluster.start_worker(model, "--max-instances", "2") for _ in range(2)]
    with api.client() as client:

        def run(_: int) -> dict[str, Any]:
            created = client.post(
                "/v1/deployments/local/capped/predictions", json={"input": {"seconds": 0.3}}
            ).json()
            return wait_status(client, created["id"], ("succeeded", "failed"))

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            done = list(pool.map(run, range(12)))
    assert all(p["status"] == "succeeded" for p in done), done
    assert len({p["output"] for p in done}) == 1  # one instance in the whole cluster
    printed = "".join(line for worker in workers for line in worker.output)
    assert "scaled up to 2" not in printed
    spans = sorted((str(p["started_at"]), str(p["completed_at"])) for p in done)
    assert not any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))
