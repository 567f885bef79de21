"""The README's first run, exactly as written: `./scripts/foretell serve` from the repository
root (default port, default relative data dir), then its Python snippets as they stand."""

from __future__ import annotations

import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

ROOT = pathlib.Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()
URL = "http://127.0.0.1:5000"
MODELS = ROOT / "src" / "foretell" / "models"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def _snippet(marker: str) -> str:
    """The README's Python block that contains `marker`."""
    found = [block for block in _python_blocks() if marker in block]
    assert found, f"no Python block in README.md with {marker!r}"
    return found[0]


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def readme_server() -> Iterator[tuple[str, subprocess.Popen[str], list[str]]]:
    if not _port_free(5000):
        pytest.fail(
            "port 5000 is in use: the README's `foretell serve` needs it; stop what holds it"
        )
    process = subprocess.Popen(
        ["./scripts/foretell", "serve"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if "foretell is serving" in line:
            break
    else:
        pytest.fail("foretell serve exited:\n" + "".join(lines))
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
    reader.start()
    printed = re.search(r"(r8_\S+)", "".join(lines))
    if printed:
        token = printed.group(1)
    else:  # the data dir was used before: the README's way to get another token
        made = subprocess.run(
            ["./scripts/foretell", "tokens", "create"], cwd=ROOT, capture_output=True,
            text=True, check=True,
        )  # fmt: skip
        token = made.stdout.split()[-1]
    try:
        yield token, process, lines
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(60)
        reader.join(10)
        if process.stdout is not None:
            process.stdout.close()


def _wait_ready(token: str, *models: str) -> None:
    deadline = time.monotonic() + 120
    with httpx.Client(base_url=URL, headers={"Authorization": f"Bearer {token}"}) as http:
        while time.monotonic() < deadline:
            states = [http.get(f"/v1/models/{m}").json()["setup"]["status"] for m in models]
            if all(s in ("ready", "busy") for s in states):
                return
            assert "setup_failed" not in states, states
            time.sleep(0.1)
    raise TimeoutError(f"{models} not ready in 120 s")


def _run_snippet(code: str, token: str) -> str:
    code = code.replace("r8_...", token).replace("r8_…", token)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_first_snippet_runs_as_written(
    readme_server: tuple[str, subprocess.Popen[str], list[str]],
) -> None:
    """The README's first client call prints what the README says it prints."""
    token, _, _ = readme_server
    _wait_ready(token, "foretell/hello")
    code = _python_blocks()[0]
    expected = [line.removeprefix("# ") for line in code.splitlines() if line.startswith("# ")]
    assert [line.rstrip() for line in _run_snippet(code, token).splitlines()] == expected


def test_the_pipeline_runs_as_written_with_the_default_data_dir(
    readme_server: tuple[str, subprocess.Popen[str], list[str]],
) -> None:
    """OCR an uploaded page, speak it by output URL: file inputs and outputs work with the
    relative default data dir, and nothing is written into the models' source folders."""
    token, _, _ = readme_server
    _wait_ready(token, "foretell/ocr", "foretell/speech")
    code = _snippet('client.run("foretell/ocr"')
    out = _run_snippet(code + "\nprint(speech)\n", token)
    *text, speech_url = out.strip().splitlines()
    assert "".join(text).strip()
    audio = httpx.get(speech_url, timeout=30)
    assert audio.status_code == 200 and (
        audio.content[:3] == b"ID3" or audio.content[:2] in (b"\xff\xfb", b"\xff\xf3")
    )
    assert not list(MODELS.glob("*/.foretell")), "a model wrote into its source folder"


def test_sigterm_stops_it_cleanly(
    readme_server: tuple[str, subprocess.Popen[str], list[str]],
) -> None:
    """SIGTERM (what systemd and Kubernetes send) exits 0 and removes the scratch dir."""
    _, process, lines = readme_server
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0, "".join(lines[-20:])
    assert "SIGTERM: stopping" in "".join(lines)
    owners = pathlib.Path(tempfile.gettempdir()).glob("foretell-runner-*/owner.pid")
    assert str(process.pid) not in [owner.read_text() for owner in owners]
