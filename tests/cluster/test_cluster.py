"""The cluster shape through real processes: API nodes and workers on 127.0.0.1 sharing
PostgreSQL, Redis and a directory; the official Python client against either node."""

from __future__ import annotations

import collections
import concurrent.futures
import subprocess
import sys

from tests.cluster.cluster import Cluster, wait_for_model, wait_status
from tests.server import official_client


def test_two_workers_share_the_load_behind_two_api_nodes(cluster: Cluster) -> None:
    """Predictions made on either API node run on both workers; either node answers for
    any of them, through the official client."""
    api_a, api_b = cluster.start_api(), cluster.start_api()
    model = cluster.model("whoami")
    workers = [cluster.start_worker(model), cluster.start_worker(model)]
    wait_for_model(api_a, "test/whoami")
    wait_for_model(api_b, "test/whoami")

    def run(index: int) -> str:
        api = (api_a, api_b)[index % 2]
        with official_client(api) as client:
            prediction = client.predictions.create(model="test/whoami", input={"seconds": 0.3})
            prediction.wait()
            assert prediction.status == "succeeded", prediction.error
            return str(prediction.output)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ran_on = collections.Counter(pool.map(run, range(16)))
    assert set(ran_on) == {str(w.pid) for w in workers}, ran_on
    with official_client(api_b) as client:
        listed = client.predictions.list()
        assert len(listed.results) == 16
        assert all(p.status == "succeeded" for p in listed.results)
    with api_a.client() as plain:
        models = plain.get("/v1/models").json()["results"]
        assert [m["name"] for m in models] == ["whoami"]


def test_wait_stream_and_cancel_work_from_any_node(cluster: Cluster) -> None:
    """A prediction made on one node is waited for, streamed and canceled through the
    other: nothing lives in an API node's memory."""
    api_a, api_b = cluster.start_api(), cluster.start_api()
    cluster.start_worker(cluster.model("whoami"), cluster.model("stream_tokens"))
    wait_for_model(api_a, "test/whoami")
    wait_for_model(api_a, "test/stream_tokens")
    with api_a.client() as a, api_b.client() as b:
        made = a.post("/v1/models/test/whoami/predictions", json={"input": {"seconds": 0.2}})
        assert made.status_code == 201
        waited = b.get(f"/v1/predictions/{made.json()['id']}", headers={"Prefer": "wait=30"})
        finished = wait_status(b, made.json()["id"], ("succeeded",))
        assert waited.status_code == 200 and finished["output"]

        streamed = a.post(
            "/v1/models/test/stream_tokens/predictions", json={"input": {}, "stream": True}
        ).json()
        with b.stream(
            "GET", streamed["urls"]["stream"], headers={"Accept": "text/event-stream"}
        ) as sse:
            events = [line for line in sse.iter_lines() if line.startswith("event:")]
        assert events[-1] == "event: done" and "event: output" in events

        slow = a.post("/v1/models/test/whoami/predictions", json={"input": {"seconds": 60}}).json()
        wait_status(b, slow["id"], ("processing",))
        assert b.post(f"/v1/predictions/{slow['id']}/cancel").status_code == 200
        assert wait_status(a, slow["id"], ("canceled",))["status"] == "canceled"


def test_a_killed_workers_work_goes_on(cluster: Cluster) -> None:
    """kill -9 of a worker: what it was running fails with a clear error once its lease
    expires; what waited in the queue runs on the other worker."""
    api = cluster.start_api()
    model = cluster.model("whoami")
    doomed = cluster.start_worker(model)
    wait_for_model(api, "test/whoami")
    with api.client() as client:
        running = client.post(
            "/v1/models/test/whoami/predictions", json={"input": {"seconds": 60}}
        ).json()
        wait_status(client, running["id"], ("processing",))
        waiting = [
            client.post("/v1/models/test/whoami/predictions", json={"input": {}}).json()
            for _ in range(3)
        ]
        doomed.kill()
        survivor = cluster.start_worker(model)
        for prediction in waiting:
            done = wait_status(client, prediction["id"], ("succeeded", "failed"))
            assert done["status"] == "succeeded" and done["output"] == str(survivor.pid)
        failed = wait_status(client, running["id"], ("failed", "succeeded"))
        assert failed["status"] == "failed"
        assert "its lease expired" in str(failed["error"])


def test_an_api_node_killed_loses_nothing(cluster: Cluster) -> None:
    """kill -9 of the node a prediction was made on: the other node has it, and it ends."""
    api_a, api_b = cluster.start_api(), cluster.start_api()
    cluster.start_worker(cluster.model("whoami"))
    wait_for_model(api_a, "test/whoami")  # each node's catalog reads the registry on its own
    wait_for_model(api_b, "test/whoami")
    with api_a.client() as a:
        responses = [
            a.post("/v1/models/test/whoami/predictions", json={"input": {"seconds": 0.1}})
            for _ in range(5)
        ]
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    made = [r.json() for r in responses]
    api_a.kill()
    with official_client(api_b) as client:
        for prediction in made:
            got = client.predictions.get(prediction["id"])
            got.wait()
            assert got.status == "succeeded"


def test_a_worker_refuses_engines_only_it_could_see(cluster: Cluster) -> None:
    """`foretell worker` with the embedded queue or database exits 2 saying what to give."""
    result = subprocess.run(
        [sys.executable, "-m", "foretell", "worker", cluster.model("whoami"),
         "--database", cluster.database],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "a worker needs the cluster's queue: --queue redis://" in " ".join(result.stderr.split())
