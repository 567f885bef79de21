"""`foretell serve` options and `foretell tokens create`, as a user runs them."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import httpx

from tests.server import fixture_model, start_server


def test_no_auth_warns_loudly_and_needs_no_token(tmp_path: pathlib.Path) -> None:
    """--no-auth prints a warning at start and accepts requests without a token."""
    model = fixture_model(tmp_path, "echo")
    server = start_server(tmp_path / "data", [str(model), "--no-auth"], token="none")
    try:
        assert any("--no-auth" in line and "WARNING" in line for line in server.output)
        response = httpx.post(
            f"{server.url}/v1/models/local/echo/predictions",
            json={"input": {"text": "open"}},
            headers={"Prefer": "wait"},
        )
        assert response.json()["output"] == "open"
    finally:
        server.stop()


def test_bare_path_is_served_as_local_or_its_image_name(tmp_path: pathlib.Path) -> None:
    """A bare PATH is local/<dir>, unless cog.yaml names an r8.im image."""
    plain = fixture_model(tmp_path, "echo")
    named = fixture_model(tmp_path, "sleep", 'predict: "predict.py"\nimage: r8.im/acme/napper\n')
    server = start_server(tmp_path / "data", [str(plain), str(named)])
    try:
        with server.client() as client:
            models = client.get("/v1/models").json()["results"]
        assert {f"{m['owner']}/{m['name']}" for m in models} == {"local/echo", "acme/napper"}
    finally:
        server.stop()


def test_built_in_models_by_name(tmp_path: pathlib.Path) -> None:
    """`foretell serve foretell/hello acme/x=PATH` serves that built-in beside a path."""
    echo = fixture_model(tmp_path, "echo")
    server = start_server(tmp_path / "data", ["foretell/hello", f"acme/x={echo}"])
    try:
        with server.client() as client:
            models = client.get("/v1/models").json()["results"]
        assert {f"{m['owner']}/{m['name']}" for m in models} == {"foretell/hello", "acme/x"}
    finally:
        server.stop()


def test_bad_model_arguments_are_refused(tmp_path: pathlib.Path) -> None:
    """A missing directory or a malformed OWNER/NAME=PATH stops serve with a clear message."""
    for arg in (str(tmp_path / "missing"), f"justaname={tmp_path}"):
        result = subprocess.run(
            [sys.executable, "-m", "foretell", "serve", arg, "--data-dir", str(tmp_path / "d")],
            capture_output=True, text=True, timeout=30,
            env={**os.environ, "COLUMNS": "300", "NO_COLOR": "1"},
        )  # fmt: skip
        assert result.returncode == 2
        assert "not a model directory" in result.stderr or "OWNER/NAME=PATH" in result.stderr


def test_engine_urls_that_cant_be_used_stop_serve_at_once(tmp_path: pathlib.Path) -> None:
    """--database/--queue/--files that name no server, or no known engine: exit 2, nothing
    made."""
    for option, url, use in (
        ("--database", "postgresql:///foretell", "names no server"),
        ("--queue", "redis://", "names no server"),
        ("--files", "s3:///prefix", "names no bucket"),
        ("--queue", "amqp://localhost", "unknown scheme amqp://"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "foretell", "serve", "--data-dir", str(tmp_path / "d"), option, url],
            capture_output=True, text=True, timeout=30,
            env={**os.environ, "COLUMNS": "300", "NO_COLOR": "1"},
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert use in result.stderr
    assert not (tmp_path / "d").exists()


def test_tokens_create_prints_the_token_last(tmp_path: pathlib.Path) -> None:
    """The token is the last word of the output and works against the server."""
    model = fixture_model(tmp_path, "echo")
    server = start_server(tmp_path / "data", [str(model)])
    try:
        out = subprocess.run(
            [sys.executable, "-m", "foretell", "tokens", "create", "--data-dir", str(tmp_path / "data")],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        token = out.split()[-1]
        assert token.startswith("r8_") and token != server.token
        with server.client(token) as client:
            assert client.get("/v1/account").status_code == 200
    finally:
        server.stop()


def test_model_threads_caps_each_worker_unless_the_model_sets_its_own(
    tmp_path: pathlib.Path,
) -> None:
    """--model-threads sets OMP_NUM_THREADS & co. for every worker; cog.yaml's wins."""
    predict = (
        "import os\nfrom cog import BasePredictor\n\n\nclass Predictor(BasePredictor):\n"
        "    def predict(self) -> str:\n"
        "        return os.environ['OMP_NUM_THREADS'] + ' ' + os.environ['OPENBLAS_NUM_THREADS']\n"
    )
    plain, own = tmp_path / "plain", tmp_path / "own"
    for model, extra in ((plain, ""), (own, "environment:\n  - OMP_NUM_THREADS=3\n")):
        model.mkdir()
        (model / "predict.py").write_text(predict)
        (model / "cog.yaml").write_text(f"predict: predict.py:Predictor\n{extra}")
    server = start_server(
        tmp_path / "data", [f"acme/plain={plain}", f"acme/own={own}", "--model-threads", "1"]
    )
    try:
        with server.client() as client:
            for name, expected in (("plain", "1 1"), ("own", "3 1")):
                result = client.post(
                    f"/v1/models/acme/{name}/predictions", headers={"Prefer": "wait"}, json={}
                ).json()
                assert result["output"] == expected, result
    finally:
        server.stop()
