"""`foretell predict` and `foretell schema`, run as a user runs them: a real process."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
PREDICTORS = ROOT / "tests" / "fixtures" / "predictors"


def foretell(*args: str, cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess, with plain (uncoloured) output."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "foretell", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )


def _model(tmp_path: pathlib.Path, fixture: str) -> pathlib.Path:
    """A model directory holding one fixture predictor as predict.py."""
    model = tmp_path / fixture
    model.mkdir()
    (model / "predict.py").write_text((PREDICTORS / f"{fixture}.py").read_text())
    return model


def test_streams_text_and_prints_logs(tmp_path: pathlib.Path) -> None:
    """Streamed tokens go to stdout as one text, logs to stderr, exit code 0."""
    result = foretell("predict", str(EXAMPLES / "hello"), "-i", "name=Ada", "-i", "delay=0")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello Ada! \nHello Ada! \nHello Ada! \n"
    assert "greeting Ada 3 times in en" in result.stderr


def test_file_input_and_output(tmp_path: pathlib.Path) -> None:
    """`-i text=@file` reads a local file; file outputs are written to -o and printed."""
    out = tmp_path / "out"
    sample = EXAMPLES / "wordcount" / "sample.txt"
    result = foretell(
        "predict", str(EXAMPLES / "wordcount"), "-i", f"text=@{sample}", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["words"] == 16
    assert printed["report"] == str(out / "report.txt")
    assert (out / "report.txt").read_text().startswith("the\t4")


def test_outputs_never_overwrite_existing_files(tmp_path: pathlib.Path) -> None:
    """A second run writes out-1.txt next to out.txt."""
    model = _model(tmp_path, "path_output")
    for _ in range(2):
        assert foretell("predict", str(model), "-i", "text=hi", cwd=tmp_path).returncode == 0
    assert (tmp_path / "out.txt").read_text() == "hi"
    assert (tmp_path / "out-1.txt").read_text() == "hi"


def test_bad_inputs_are_reported_per_field_before_setup_runs() -> None:
    """Every bad -i is listed and setup() never runs; exit code 2."""
    hello = foretell("predict", str(EXAMPLES / "hello"), "-i", "repeat=99", "-i", "language=xx")
    assert hello.returncode == 2
    assert "input.repeat: must be <= 20 (got 99)" in hello.stderr
    assert 'input.language: must be one of "en", "fr", "de", "es" (got "xx")' in hello.stderr
    assert "Running setup()" not in hello.stderr


def test_missing_local_file_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    """`@file` that doesn't exist is refused before the model runs."""
    result = foretell("predict", str(EXAMPLES / "wordcount"), "-i", "text=@/nonexistent.txt")
    assert result.returncode == 2
    assert "@/nonexistent.txt: no such file" in result.stderr


def test_setup_failure_exits_1_with_the_error(tmp_path: pathlib.Path) -> None:
    """A failing setup() prints its logs and error."""
    result = foretell("predict", str(_model(tmp_path, "exc_in_setup")))
    assert result.returncode == 1
    assert "loading weights" in result.stderr
    assert "RuntimeError: weights not found" in result.stderr


def test_failed_prediction_exits_1(tmp_path: pathlib.Path) -> None:
    """A model exception is printed and the exit code is 1."""
    result = foretell("predict", str(_model(tmp_path, "exc_in_predict")), "-i", "text=q")
    assert result.returncode == 1
    assert "ValueError: bad text: q" in result.stderr


def test_schema_prints_the_cog_document() -> None:
    """`foretell schema` prints the OpenAPI document as JSON."""
    result = foretell("schema", str(EXAMPLES / "hello"))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["components"]["schemas"]["Output"]["x-cog-array-display"] == "concatenate"
    assert document["components"]["schemas"]["language"]["enum"] == ["en", "fr", "de", "es"]


def test_not_a_model_directory(tmp_path: pathlib.Path) -> None:
    """A directory without a model is refused with a clear message."""
    result = foretell("schema", str(tmp_path))
    assert result.returncode == 1
    assert "no cog.yaml, foretell.yaml or predict.py" in result.stderr


def test_ctrl_c_cancels_the_prediction(tmp_path: pathlib.Path) -> None:
    """SIGINT while the model runs cancels it and exits with 130."""
    import signal
    import time

    model = _model(tmp_path, "sleep")
    with subprocess.Popen(
        [sys.executable, "-m", "foretell", "predict", str(model), "-i", "seconds=30"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    ) as process:  # closes the pipe after
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        seen = ""
        while "going to sleep" not in seen:  # the model is running predict() now
            line = process.stderr.readline()
            assert line and time.monotonic() < deadline, seen
            seen += line
        process.send_signal(signal.SIGINT)
        # a busy machine may take a while; what matters is that it cancels and says so
        assert process.wait(timeout=60) == 130


def test_what_setup_prints_is_shown(tmp_path: pathlib.Path) -> None:
    """setup()'s own output (threads, weights loaded…) reaches stderr, with its duration."""
    result = foretell("predict", str(_model(tmp_path, "logs")), "-i", "text=x")
    assert result.returncode == 0, result.stderr
    assert "setting up" in result.stderr
    assert "setup() done in" in result.stderr
