"""A version pushed to an API node of a cluster runs on the workers that host pushed versions
(`foretell worker --pushed`), each fetching it from the shared FileStore."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

from tests.cluster.cluster import Cluster, cluster, wait_for_model
from tests.server import official_client

__all__ = ["cluster"]

PREDICT = """\
import os

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        return f"pushed, run by {os.getppid()}"
"""


def test_a_pushed_version_runs_on_any_worker(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    api = cluster.start_api()
    first = cluster.start_worker("--pushed")
    model = tmp_path / "pushed"
    model.mkdir()
    (model / "predict.py").write_text(PREDICT)
    env = {**os.environ, "FORETELL_BASE_URL": api.url, "REPLICATE_API_TOKEN": api.token}
    pushed = subprocess.run(
        [sys.executable, "-m", "foretell", "push", str(model), "local/pushed"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr
    ref = pushed.stdout.strip().splitlines()[-1]
    wait_for_model(api, "local/pushed")
    with official_client(api) as replicate:
        assert str(replicate.run(ref)).startswith("pushed, run by ")
    # a worker that starts later fetches it from the shared files; the first one goes away
    second = cluster.start_worker("--pushed")
    first.stop()
    with official_client(api) as replicate:
        prediction = replicate.predictions.create(version=ref.split(":")[1], input={})
        prediction.wait()
    assert prediction.status == "succeeded", prediction.error
    assert prediction.output == f"pushed, run by {second.pid}"
