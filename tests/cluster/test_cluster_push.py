"""A version pushed to an API node of a cluster runs on the workers that host pushed versions
(`foretell worker --pushed`), each fetching it from the shared FileStore."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time

from tests.cluster.cluster import Cluster, cluster, wait_for_model
from tests.server import Server, official_client

__all__ = ["cluster"]

PREDICT = """\
import os

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        return f"pushed, run by {os.getppid()}"
"""


def _push(api: Server, model: pathlib.Path, name: str) -> str:
    """`foretell push` to the API node; the version's ref it prints."""
    env = {**os.environ, "FORETELL_BASE_URL": api.url, "REPLICATE_API_TOKEN": api.token}
    pushed = subprocess.run(
        [sys.executable, "-m", "foretell", "push", str(model), name],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr
    return pushed.stdout.strip().splitlines()[-1]


def test_a_pushed_version_runs_on_any_worker(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    api = cluster.start_api()
    first = cluster.start_worker("--pushed")
    model = tmp_path / "pushed"
    model.mkdir()
    (model / "predict.py").write_text(PREDICT)
    ref = _push(api, model, "local/pushed")
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


def test_a_training_on_one_worker_makes_a_version_another_runs(
    cluster: Cluster, tmp_path: pathlib.Path
) -> None:
    """A pushed trainable model trains on one worker; its weights go to the shared files,
    and a worker that starts afterwards runs the trained version with them."""
    api = cluster.start_api()
    first = cluster.start_worker("--pushed")
    model = tmp_path / "greeter"
    model.mkdir()
    (model / "cog.yaml").write_text(
        'predict: "predict.py:Predictor"\ntrain: "predict.py:Predictor"\n'
    )
    fixture = pathlib.Path(__file__).parent.parent / "fixtures" / "predictors" / "trainable.py"
    (model / "predict.py").write_text(fixture.read_text())
    ref = _push(api, model, "local/greeter")
    with official_client(api) as replicate:
        replicate.models.create(owner="local", name="tuned", visibility="private", hardware="cpu")
        training = replicate.trainings.create(
            version=ref, destination="local/tuned", input={"greeting": "Ahoy"}
        )
        deadline = time.monotonic() + 120
        while training.status not in ("succeeded", "failed", "canceled"):
            assert time.monotonic() < deadline, f"training still {training.status}"
            time.sleep(0.1)  # the 1.0.7 client's Training has no wait(): poll as it would
            training.reload()
        assert training.status == "succeeded", training.error
        trained: str = (training.output or {})["version"]
        cluster.start_worker("--pushed")
        first.stop()
        assert (
            replicate.run(trained, input={"name": "Al"}) == "Ahoy, from untrained (Path) greets Al"
        )
