"""Models come up in the background: the server listens at once, predictions wait as
`starting` (a cold boot), bad input and unavailable models fail them with the reason."""

from __future__ import annotations

import os
import pathlib
import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.server import Server, fixture_model, start_server, wait_done, wait_for_models

PREDICT = """
import six
from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, n: int = Input(ge=1, le=10)) -> str:
        return f"six {six.__version__}: {n}"
"""


def _slow_model(root: pathlib.Path) -> pathlib.Path:
    """A model whose environment takes seconds to build in a fresh cache."""
    model = root / "needs-six"
    model.mkdir(parents=True)
    (model / "predict.py").write_text(PREDICT)
    (model / "cog.yaml").write_text(
        'build:\n  python_packages: ["six==1.16.0"]\npredict: "predict.py:Predictor"\n'
    )
    return model


@pytest.fixture
def server(tmp_path: pathlib.Path) -> Iterator[Server]:
    """A fresh environment cache, so the model really builds while the server listens."""
    models = [
        f"acme/six={_slow_model(tmp_path)}",
        f"acme/apt={fixture_model(tmp_path, 'echo', _needs_package())}",
    ]
    server = start_server(
        tmp_path / "data",
        models,
        wait_models=False,
        env={"FORETELL_CACHE_DIR": str(tmp_path / "cache")},
    )
    yield server
    server.stop()


def _needs_package() -> str:
    return (
        'build:\n  system_packages: ["foretell-no-such-package"]\npredict: "predict.py:Predictor"\n'
    )


def _setup(client: httpx.Client, name: str) -> dict[str, object]:
    model: dict[str, object] = client.get(f"/v1/models/{name}").json()
    setup = model["setup"]
    assert isinstance(setup, dict)
    return setup


def _wait_setup(client: httpx.Client, name: str, status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while _setup(client, name)["status"] != status:
        assert time.monotonic() < deadline, _setup(client, name)
        time.sleep(0.05)


def test_predictions_wait_as_starting_while_the_environment_builds(server: Server) -> None:
    """The model is listed while preparing; its prediction is accepted as `starting` with a
    note in its logs, then runs in the new environment and reports how long it waited."""
    with server.client() as client:
        assert _setup(client, "acme/six")["status"] == "preparing"
        created = client.post("/v1/models/acme/six/predictions", json={"input": {"n": 3}})
        assert created.status_code == 201
        assert created.json()["status"] == "starting"
        assert "Waiting for acme/six to start (building its environment" in created.json()["logs"]
        done = wait_done(client, created.json()["id"], timeout=120)
        assert (done["status"], done["output"]) == ("succeeded", "six 1.16.0: 3")
        assert "The model was ready after" in done["logs"]
        # busy while it ran; the runner publishes its new state within half a second
        _wait_setup(client, "acme/six", "ready")
    assert any("[acme/six] Creating the environment" in line for line in server.output)


def test_prefer_wait_spans_the_cold_boot(server: Server) -> None:
    """`Prefer: wait` holds the request through the environment build and the run."""
    with server.client() as client:
        response = client.post(
            "/v1/models/acme/six/predictions",
            json={"input": {"n": 1}},
            headers={"Prefer": "wait=60"},
            timeout=70,
        )
    assert (response.json()["status"], response.json()["output"]) == ("succeeded", "six 1.16.0: 1")


def test_input_is_checked_once_the_schema_is_known(server: Server) -> None:
    """Before the schema exists the input can't be checked: the prediction fails later,
    with the same field message a 422 would carry; afterwards a 422 comes at once."""
    with server.client() as client:
        created = client.post("/v1/models/acme/six/predictions", json={"input": {"n": 99}})
        assert created.status_code == 201
        done = wait_done(client, created.json()["id"], timeout=120)
        assert done["status"] == "failed"
        assert "checked once the model had started" in done["error"]
        assert "input.n" in done["error"]
        wait_for_models(server, timeout=120)
        again = client.post("/v1/models/acme/six/predictions", json={"input": {"n": 99}})
        assert again.status_code == 422


def test_cancel_while_waiting(server: Server) -> None:
    """A prediction waiting for its model can be canceled; it never runs."""
    with server.client() as client:
        created = client.post("/v1/models/acme/six/predictions", json={"input": {"n": 2}}).json()
        canceled = client.post(f"/v1/predictions/{created['id']}/cancel").json()
        assert canceled["status"] == "canceled"
        wait_for_models(server, timeout=120)
        time.sleep(0.5)
        assert client.get(f"/v1/predictions/{created['id']}").json()["status"] == "canceled"


def test_missing_system_packages_fail_the_model_with_the_fix(server: Server) -> None:
    """The model shows a failed setup naming the apt-get command; its predictions fail
    with that message instead of waiting forever."""
    with server.client() as client:
        _wait_setup(client, "acme/apt", "setup_failed")
        error = str(_setup(client, "acme/apt")["error"])
        assert "apt-get install foretell-no-such-package" in error
        response = client.post(
            "/v1/models/acme/apt/predictions",
            json={"input": {"text": "hi"}},
            headers={"Prefer": "wait"},
        )
        assert response.status_code == 201
        assert response.json()["status"] == "failed"
        assert "apt-get install foretell-no-such-package" in response.json()["error"]


@pytest.fixture
def building(tmp_path: pathlib.Path) -> Iterator[Server]:
    """A server whose one model's package takes five minutes to build (setup.py sleeps)."""
    package = tmp_path / "slowpkg"
    package.mkdir()
    (package / "setup.py").write_text(
        "import time\nfrom setuptools import setup\ntime.sleep(300)\nsetup(name='slowpkg')\n"
    )
    model = tmp_path / "slow"
    model.mkdir()
    (model / "predict.py").write_text(PREDICT)
    (model / "cog.yaml").write_text(
        f'build:\n  python_packages: ["{package}"]\npredict: "predict.py:Predictor"\n'
    )
    server = start_server(
        tmp_path / "data",
        [f"acme/slow={model}"],
        wait_models=False,
        env={"FORETELL_CACHE_DIR": str(tmp_path / "cache")},
    )
    yield server
    server.stop()


def test_cancel_after_passes_while_the_model_is_starting(building: Server) -> None:
    """Cancel-After counts from creation: a prediction still waiting when it passes is
    canceled with the reason, and never runs."""
    with building.client() as client:
        created = client.post(
            "/v1/models/acme/slow/predictions",
            json={"input": {"n": 4}},
            headers={"Cancel-After": "5s"},
        )
        assert created.status_code == 201, created.text
        done = wait_done(client, created.json()["id"], timeout=30)
    assert done["status"] == "canceled"
    assert "Cancel-After deadline passed before it started" in done["error"]


def test_build_progress_shows_in_the_models_api(building: Server) -> None:
    """While the environment builds, the model's setup field carries the latest progress
    line (the installer step, then "still installing (N s)" every 15 s)."""
    with building.client() as client:
        deadline = time.monotonic() + 60
        while "pip" not in str(_setup(client, "acme/slow")["progress"]):
            assert time.monotonic() < deadline, _setup(client, "acme/slow")
            time.sleep(0.1)
        assert _setup(client, "acme/slow")["status"] == "preparing"


def test_shutdown_stops_an_environment_build(building: Server, tmp_path: pathlib.Path) -> None:
    """Ctrl-C while a model's packages build stops the installer instead of waiting minutes
    for it; the half-built environment is not kept."""
    deadline = time.monotonic() + 60
    while not any("$ " in line and "pip" in line for line in building.output):
        assert time.monotonic() < deadline, building.output
        time.sleep(0.1)
    time.sleep(1.0)  # pip is at work now
    started = time.monotonic()
    building.process.send_signal(signal.SIGINT)
    building.process.wait(timeout=30)
    assert time.monotonic() - started < 10
    assert not any((tmp_path / "cache" / "envs").glob("*/.foretell-ready"))


def test_a_prediction_waiting_for_its_model_survives_kill_9(tmp_path: pathlib.Path) -> None:
    """Accepted while the environment built, then the server is killed mid-build: after a
    restart the build starts over and the prediction runs; nothing accepted is lost."""
    models = [f"acme/six={_slow_model(tmp_path)}"]
    env = {"FORETELL_CACHE_DIR": str(tmp_path / "cache")}
    first = start_server(tmp_path / "data", models, wait_models=False, env=env)
    with first.client() as client:
        assert _setup(client, "acme/six")["status"] == "preparing"
        created = client.post("/v1/models/acme/six/predictions", json={"input": {"n": 5}}).json()
    first.kill()
    second = start_server(tmp_path / "data", models, token=first.token, wait_models=False, env=env)
    try:
        with second.client() as client:
            done = wait_done(client, created["id"], timeout=120)
        assert (done["status"], done["output"]) == ("succeeded", "six 1.16.0: 5")
    finally:
        second.stop()


def test_an_orphaned_build_keeps_its_lock(building: Server, tmp_path: pathlib.Path) -> None:
    """kill -9 mid-build leaves pip running; a restarted server waits for it instead of
    building into the same directory at once, and builds afresh when it is gone."""
    deadline = time.monotonic() + 60
    while not any("$ " in line and "pip" in line for line in building.output):
        assert time.monotonic() < deadline, building.output
        time.sleep(0.1)
    building.kill()
    second = start_server(
        tmp_path / "data2",
        building.args[building.args.index("serve") + 1 : building.args.index("--port")],
        wait_models=False,
        env={"FORETELL_CACHE_DIR": str(tmp_path / "cache")},
    )
    try:
        time.sleep(2)
        assert not any("Creating the environment" in line for line in second.output)
        for pid in _processes_mentioning(str(tmp_path / "slowpkg")):
            os.kill(pid, signal.SIGKILL)  # the orphaned pip and its build
        deadline = time.monotonic() + 30
        while not any("Creating the environment" in line for line in second.output):
            assert time.monotonic() < deadline, second.output
            time.sleep(0.1)
    finally:
        second.stop()


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for cmdline in pathlib.Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in cmdline.read_bytes().decode(errors="replace"):
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def test_stream_of_a_prediction_made_during_the_cold_boot(server: Server) -> None:
    """Its SSE stream, opened at once, stays open through the environment build and ends
    with the output and `done`."""
    with server.client() as client:
        created = client.post(
            "/v1/models/acme/six/predictions", json={"input": {"n": 7}, "stream": True}
        ).json()
        assert created["status"] == "starting"
        with httpx.stream(
            "GET", created["urls"]["stream"], headers={"Accept": "text/event-stream"}, timeout=120
        ) as response:
            text = "".join(response.iter_text())
    events = [
        line.removeprefix("event: ") for line in text.splitlines() if line.startswith("event: ")
    ]
    assert events[-2:] == ["output", "done"]
    assert "six 1.16.0: 7" in text
