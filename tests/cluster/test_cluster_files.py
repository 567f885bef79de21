"""Files in the cluster, on a real S3-compatible server (moto): uploads, outputs and
chaining by output URL work across API nodes and a worker, with no shared disk at all."""

from __future__ import annotations

import httpx

from tests.cluster.cluster import Cluster, wait_for_model, wait_status
from tests.files.s3_server import S3Server, s3_server

__all__ = ["s3_server"]


def test_uploads_outputs_and_chaining_cross_nodes_on_s3(
    cluster: Cluster, s3_server: S3Server
) -> None:
    cluster.files_url = s3_server.files_url()
    cluster.extra_env = s3_server.credentials()
    api_a, api_b = cluster.start_api(), cluster.start_api()
    cluster.start_worker(cluster.model("path_input"), cluster.model("path_output"))
    for api in (api_a, api_b):  # each node's catalog reads the registry on its own
        wait_for_model(api, "test/path_input")
        wait_for_model(api, "test/path_output")
    with api_a.client() as a, api_b.client() as b:
        upload = a.post("/v1/files", files={"content": ("in.txt", b"uploaded", "text/plain")})
        assert upload.status_code == 201
        read = _run(a, "test/path_input", {"image": upload.json()["urls"]["get"]})
        assert str(read["output"]).split("|")[1] == "uploaded"

        made = _run(b, "test/path_output", {"text": "chained"})
        output_url = str(made["output"])
        assert httpx.get(output_url).content == b"chained"  # signed: no token needed
        again = a.get(f"/v1/predictions/{made['id']}").json()["output"]
        assert httpx.get(str(again)).content == b"chained"  # the other node signs alike
        chained = _run(b, "test/path_input", {"image": output_url})
        assert str(chained["output"]).split("|")[1] == "chained"


def _run(client: httpx.Client, model: str, inputs: dict[str, object]) -> dict[str, object]:
    made = client.post(f"/v1/models/{model}/predictions", json={"input": inputs})
    assert made.status_code == 201, made.text
    done = wait_status(client, made.json()["id"], ("succeeded", "failed"))
    assert done["status"] == "succeeded", done
    return done
