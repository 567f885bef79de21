"""Per-model environments from cog.yaml: built once, cached, side by side, isolated."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

from foretell.predictor.config import load_config
from foretell.runner.environments import prepare
from tests.server import start_server

PREDICT = """
import importlib.util
import six
import sys
from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        isolated = importlib.util.find_spec("starlette") is None
        return f"{six.__version__}|{sys.prefix}|{isolated}"
"""


def _model(root: pathlib.Path, name: str, six_version: str) -> pathlib.Path:
    model = root / name
    model.mkdir(parents=True)
    (model / "predict.py").write_text(PREDICT)
    (model / "cog.yaml").write_text(
        f'build:\n  python_packages: ["six=={six_version}"]\npredict: "predict.py:Predictor"\n'
    )
    return model


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """One environment cache for the module, so each environment is built once."""
    return tmp_path_factory.mktemp("cache")


def test_environment_is_built_once_then_cached(tmp_path: pathlib.Path, cache: pathlib.Path) -> None:
    """The first prepare installs the packages; the second reuses the environment."""
    config = load_config(_model(tmp_path, "m", "1.16.0"))
    lines: list[str] = []
    first = prepare(config, cache, progress=lines.append)
    assert first.built_in_s > 0 and any("Creating the environment" in line for line in lines)
    second = prepare(config, cache, progress=lines.append)
    assert second.python == first.python and second.built_in_s == 0.0


def test_conflicting_requirements_run_side_by_side(
    tmp_path: pathlib.Path, cache: pathlib.Path
) -> None:
    """Two served models pinning different six versions each get their own, and neither
    sees the server's packages."""
    old, new = _model(tmp_path, "old", "1.15.0"), _model(tmp_path, "new", "1.16.0")
    os.environ["FORETELL_CACHE_DIR"] = str(cache)
    try:
        server = start_server(tmp_path / "data", [f"acme/old={old}", f"acme/new={new}"])
    finally:
        del os.environ["FORETELL_CACHE_DIR"]
    try:
        with server.client() as client:
            outputs = {
                name: client.post(
                    f"/v1/models/acme/{name}/predictions",
                    json={"input": {}},
                    headers={"Prefer": "wait"},
                ).json()["output"]
                for name in ("old", "new")
            }
    finally:
        server.stop()
    old_version, old_prefix, old_isolated = outputs["old"].split("|")
    new_version, new_prefix, new_isolated = outputs["new"].split("|")
    assert (old_version, new_version) == ("1.15.0", "1.16.0")
    assert old_prefix != new_prefix and str(cache) in old_prefix
    assert old_isolated == new_isolated == "True"


def test_missing_system_packages_are_reported_with_the_fix(tmp_path: pathlib.Path) -> None:
    """A model needing an absent Debian package is refused with the apt-get command."""
    model = tmp_path / "needs"
    model.mkdir()
    (model / "predict.py").write_text(PREDICT)
    (model / "cog.yaml").write_text(
        'build:\n  system_packages: ["foretell-no-such-package"]\npredict: "predict.py"\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "foretell", "predict", str(model)],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "COLUMNS": "300", "NO_COLOR": "1"},
    )  # fmt: skip
    assert result.returncode == 1
    assert "apt-get install foretell-no-such-package" in result.stderr


def test_worker_path_survives_models_coming_up_at_once(tmp_path: pathlib.Path) -> None:
    """Several models are brought up in parallel threads; each gets working links to this
    installation's foretell and cog, even when the links pointed elsewhere before."""
    import concurrent.futures

    from foretell.runner.environments import package_root, worker_path

    first = worker_path(tmp_path)
    for name in ("foretell", "cog"):  # as if another checkout had made them
        (first / name).unlink()
        (first / name).symlink_to(tmp_path, target_is_directory=True)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(lambda _: worker_path(tmp_path), range(32)))
    assert set(paths) == {first}
    for name in ("foretell", "cog"):
        assert (first / name).resolve() == package_root() / name
