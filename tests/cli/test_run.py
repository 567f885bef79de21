"""`foretell run` as a user runs it: a real subprocess against a real `foretell serve`."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.server import Server, fixture_model, free_port, start_server

ROOT = pathlib.Path(__file__).parents[2]
FORETELL = pathlib.Path(sys.executable).parent / "foretell"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("run")
    sleep = fixture_model(
        tmp, "sleep", 'predict: "predict.py:Predictor"\nimage: r8.im/test/sleep\n'
    )
    files = fixture_model(
        tmp, "path_output", 'predict: "predict.py:Predictor"\nimage: r8.im/test/path-output\n'
    )
    models = ["foretell/hello", "foretell/wordcount", str(sleep), str(files)]
    started = start_server(tmp / "data", models, "--allow-private-urls")
    yield started
    started.stop()


def foretell(
    server: Server, *args: str, cwd: pathlib.Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed `foretell` script, with the server's URL and token in the environment."""
    environ = {
        **os.environ,
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "FORETELL_BASE_URL": server.url,
        "REPLICATE_API_TOKEN": server.token,
        **(env or {}),
    }
    return subprocess.run(
        [str(FORETELL), *args], capture_output=True, text=True, cwd=cwd, env=environ, timeout=60
    )


def test_streams_text_as_it_arrives(server: Server) -> None:
    """A text model's output is printed as one text, its logs go to stderr, exit 0."""
    result = foretell(server, "run", "foretell/hello", "-i", "name=Ada", "-i", "delay=0")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello Ada! \nHello Ada! \nHello Ada! \n"
    assert "greeting Ada 3 times in en" in result.stderr


def test_invalid_input_is_refused_before_sending_with_the_servers_message(server: Server) -> None:
    """A bad input exits 2 with the line a 422 would carry, and no prediction is created."""
    with server.client() as http:
        before = len(http.get("/v1/predictions").json()["results"])
    result = foretell(server, "run", "foretell/hello", "-i", "repeat=99", "-i", "language=xx")
    assert result.returncode == 2
    assert "- input.repeat: must be <= 20 (got 99)" in result.stderr
    with server.client() as http:
        response = http.post(
            "/v1/models/foretell/hello/predictions", json={"input": {"repeat": 99}}
        )
        assert "- input.repeat: must be <= 20 (got 99)" in response.json()["detail"]
        assert len(http.get("/v1/predictions").json()["results"]) == before


def test_file_input_is_uploaded_and_file_outputs_downloaded(
    server: Server, tmp_path: pathlib.Path
) -> None:
    """`-i text=@file` uploads it; the output's file is saved under -o and its path printed."""
    (tmp_path / "words.txt").write_text("the cat and the hat\n")
    result = foretell(
        server, "run", "foretell/wordcount", "-i", "text=@words.txt", "-o", "out", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["words"] == 5
    assert printed["report"] == "out/report.txt"
    assert (tmp_path / "out" / "report.txt").read_text().startswith("the\t2")


def test_outputs_never_overwrite_earlier_files(server: Server, tmp_path: pathlib.Path) -> None:
    """A second run saves out-1.txt beside the first out.txt."""
    for text in ("one", "two"):
        result = foretell(server, "run", "test/path-output", "-i", f"text={text}", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.txt").read_text() == "one"
    assert (tmp_path / "out-1.txt").read_text() == "two"


def test_no_wait_prints_the_id_and_json_prints_the_prediction(server: Server) -> None:
    """--no-wait prints only the new prediction's id; --json prints the finished prediction."""
    created = foretell(server, "run", "foretell/hello", "-i", "delay=0", "--no-wait")
    assert created.returncode == 0, created.stderr
    prediction_id = created.stdout.strip()
    assert len(prediction_id) == 26
    finished = foretell(server, "run", "foretell/hello", "-i", "delay=0", "--json")
    body = json.loads(finished.stdout)
    assert body["status"] == "succeeded"
    assert "".join(body["output"]).startswith("Hello World!")


def test_several_input_sets_run_concurrently_with_a_summary(server: Server) -> None:
    """Each -I set is its own prediction; the summary table lists each one's status and output."""
    result = foretell(
        server, "run", "test/sleep", "-i", "seconds=0.5",
        "-I", "seconds=0.6", "-I", "seconds=0.7", "-I", "seconds=0.8", "--parallel", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("succeeded") == 3
    assert result.stdout.count("woke up") == 3
    with server.client() as http:
        recent = http.get("/v1/predictions").json()["results"][:3]
    created = sorted(p["created_at"] for p in recent)
    ends = sorted(p["completed_at"] for p in recent)
    # all three were sent at once (the model itself runs one at a time: they queue)
    assert created[-1] < ends[0]


def test_jsonl_runs_a_line_per_prediction_and_reports_failures(
    server: Server, tmp_path: pathlib.Path
) -> None:
    """A JSONL file gives one prediction per line (`@file` values upload); a bad line exits 2."""
    (tmp_path / "a.txt").write_text("a b c\n")
    lines = [{"text": "@a.txt"}, {"text": "@a.txt", "top": 1}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = foretell(
        server, "run", "foretell/wordcount", "--jsonl", "in.jsonl", "-o", "out", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "1" / "report.txt").is_file()
    assert (tmp_path / "out" / "2" / "report.txt").is_file()
    (tmp_path / "bad.jsonl").write_text('{"text": "@a.txt", "top": 0}\n')
    bad = foretell(server, "run", "foretell/wordcount", "--jsonl", "bad.jsonl", cwd=tmp_path)
    assert bad.returncode == 2
    assert "line 1" in bad.stderr and "input.top: must be >= 1 (got 0)" in bad.stderr


def test_webhook_is_sent_to_the_given_url(server: Server, tmp_path: pathlib.Path) -> None:
    """--webhook URL --webhook-event completed: the API POSTs the finished prediction there."""
    port, log = free_port(), tmp_path / "hooks.jsonl"
    receiver = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "webhook_receiver.py"), str(port), str(log)]
    )
    try:
        url = f"http://127.0.0.1:{port}/hook"
        result = foretell(
            server, "run", "foretell/hello", "-i", "delay=0",
            "--webhook", url, "--webhook-event", "completed",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not log.exists():
            time.sleep(0.05)
        bodies = [json.loads(json.loads(line)["body"]) for line in log.read_text().splitlines()]
        assert [b["status"] for b in bodies] == ["succeeded"]
    finally:
        receiver.kill()
        receiver.wait()


def test_ctrl_c_cancels_the_prediction(server: Server) -> None:
    """SIGINT while a prediction runs cancels it on the server and exits 130."""
    env = {**os.environ, "NO_COLOR": "1", "FORETELL_BASE_URL": server.url,
           "REPLICATE_API_TOKEN": server.token}  # fmt: skip
    process = subprocess.Popen(
        [str(FORETELL), "run", "test/sleep", "-i", "seconds=30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    with server.client() as http:
        deadline = time.monotonic() + 20
        running = None
        while time.monotonic() < deadline and running is None:
            recent = http.get("/v1/predictions").json()["results"]
            running = next((p for p in recent if p["status"] == "processing"), None)
            time.sleep(0.05)
        assert running is not None
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
        assert process.returncode == 130, stderr
        assert http.get(f"/v1/predictions/{running['id']}").json()["status"] == "canceled"


def test_base_url_flag_wins_over_the_environment(server: Server) -> None:
    """--base-url (with or without /v1) is the API called, whatever FORETELL_BASE_URL says."""
    wrong = {"FORETELL_BASE_URL": f"http://127.0.0.1:{free_port()}"}
    refused = foretell(server, "run", "foretell/hello", "-i", "delay=0", env=wrong)
    assert refused.returncode == 1
    assert "Could not connect" in refused.stderr
    result = foretell(
        server, "run", "foretell/hello", "-i", "delay=0", "-i", "repeat=1",
        "--base-url", server.url + "/v1", env=wrong,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello World! \n"


def test_a_bad_token_or_model_is_a_clear_error(server: Server) -> None:
    """A wrong token prints the API's 401 message; an unknown model its 404; both exit 1."""
    result = foretell(server, "run", "foretell/hello", "--token", "r8_wrong")
    assert result.returncode == 1
    assert "valid authentication token" in result.stderr
    missing = foretell(server, "run", "nobody/nothing")
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr and missing.stderr.strip()
