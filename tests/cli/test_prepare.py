"""`foretell models prepare`: environments built ahead of time, with progress and errors."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys


def _prepare(cache: pathlib.Path, *paths: pathlib.Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "FORETELL_CACHE_DIR": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "foretell", "models", "prepare", *map(str, paths)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _model(root: pathlib.Path, name: str, build: str) -> pathlib.Path:
    model = root / name
    model.mkdir()
    (model / "predict.py").write_text(
        "from cog import BasePredictor\n\n\nclass Predictor(BasePredictor):\n"
        "    def predict(self) -> str:\n        return 'ok'\n"
    )
    (model / "cog.yaml").write_text(f"build:\n{build}\npredict: predict.py:Predictor\n")
    return model


def test_builds_once_with_progress_then_reuses(tmp_path: pathlib.Path) -> None:
    """The first run creates the environment and says so; the second finds it ready."""
    model = _model(tmp_path, "six", '  python_packages: ["six==1.16.0"]')
    first = _prepare(tmp_path / "cache", model)
    assert first.returncode == 0, first.stderr
    assert "Creating the environment of six" in first.stderr
    assert f"{model}: ready" in first.stdout
    second = _prepare(tmp_path / "cache", model)
    assert second.returncode == 0 and "Creating" not in second.stderr
    assert f"{model}: ready" in second.stdout


def test_each_model_is_prepared_and_a_failure_is_named(tmp_path: pathlib.Path) -> None:
    """Several paths: a broken one is reported (exit 1) and the others still prepared;
    missing system packages are named with the apt-get command."""
    broken = _model(tmp_path, "broken", '  python_requirements: "missing.txt"')
    apt = _model(tmp_path, "apt", '  system_packages: ["foretell-no-such-package"]')
    result = _prepare(tmp_path / "cache", broken, apt)
    assert result.returncode == 1
    assert f"Could not prepare {broken}" in result.stderr
    assert "missing.txt does not exist" in result.stderr
    assert "apt-get install foretell-no-such-package" in result.stderr
    assert f"{apt}: ready" in result.stdout
