"""The README's cluster section, run as written: its shell commands (with a scratch database
and Redis database in place of `foretell` and `/0`, so a user's are never touched) and its
Python block against the two API nodes; then one worker is killed and the other finishes."""

from __future__ import annotations

import os
import pathlib
import re
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.cluster.cluster import REDIS_URL, create_database, drop_database, flush_redis

ROOT = pathlib.Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()
SECTION = README[README.index("## Run a cluster") :]

pytestmark = pytest.mark.timeout(300)


def _block(language: str) -> str:
    found = re.search(rf"```{language}\n(.*?)```", SECTION, flags=re.DOTALL)
    assert found, f"no {language} block in the README's cluster section"
    return found.group(1)


class Process:
    """One README command running, its output collected."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                found = re.search(pattern, line)
                if found:
                    return found
            assert self.popen.poll() is None, "".join(self.lines)
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in:\n{''.join(self.lines)}")

    def stop(self, sig: signal.Signals = signal.SIGINT) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.reader.join(10)
        if self.popen.stdout is not None:
            self.popen.stdout.close()


@pytest.fixture
def scratch() -> Iterator[str]:
    flush_redis()
    database = create_database()
    try:
        yield database
    finally:
        drop_database(database)
        flush_redis()


def test_the_readme_cluster_runs_and_survives_a_killed_worker(
    scratch: str, tmp_path: pathlib.Path
) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    commands = []
    for line in _block("sh").splitlines():
        command = line.split("#", 1)[0].strip()
        if command.startswith("export "):
            name, _, value = command.removeprefix("export ").partition("=")
            value = value.replace("/foretell", "/" + scratch.rsplit("/", 1)[1])
            value = value.replace("redis://127.0.0.1:6379/0", REDIS_URL)
            value = value.replace("/tmp/foretell-shared", str(tmp_path / "shared"))
            env[name] = value
        elif command.startswith("./scripts/foretell"):
            commands.append(shlex.split(command))
        else:
            assert command.startswith("createdb") or not command, command  # the fixture's
    processes: list[Process] = []
    try:
        api = Process(commands[0], env)
        processes.append(api)
        token = api.wait_for(r"(r8_\S+)").group(1)
        api.wait_for("foretell is serving")
        for argv in commands[1:]:
            processes.append(Process(argv, env))
        processes[1].wait_for("foretell is serving")
        workers = processes[2:]
        for worker in workers:
            worker.wait_for(r"foretell worker \S+ hosts foretell/hello")
        _wait_for_model("http://127.0.0.1:5101", token)
        code = compile(_block("python").replace("r8_...", token), "README", "exec")
        scope: dict[str, object] = {}
        failed: list[BaseException] = []

        def run_block() -> None:
            try:
                exec(code, scope)
            except BaseException as exc:
                failed.append(exc)

        run = threading.Thread(target=run_block)
        run.start()
        workers[0].wait_for(r" foretell/hello succeeded")  # it got its share of the work…
        workers[0].stop()  # …and is stopped (Ctrl-C): the other finishes the rest
        run.join(240)
        assert not run.is_alive() and not failed, failed
        clients = scope["clients"]
        assert isinstance(clients, list)
        for client in clients:  # the README leaves them open; a test must not
            client._client.close()
        greetings = scope["greetings"]
        assert isinstance(greetings, list) and len(greetings) == 60
        assert greetings[:2] == ["Hello #0! ", "Hello #1! "]
        done = sum(" foretell/hello succeeded" in line for line in workers[1].lines)
        assert done > 0
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
            listed = client.get("http://127.0.0.1:5100/v1/predictions").json()["results"]
            assert all(p["status"] in ("succeeded", "failed") for p in listed)
    finally:
        for process in reversed(processes):
            process.stop()


def _wait_for_model(url: str, token: str) -> None:
    deadline = time.monotonic() + 120
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
        while time.monotonic() < deadline:
            found = client.get(f"{url}/v1/models/foretell/hello")
            if found.status_code == 200 and (found.json()["latest_version"] or {}).get(
                "openapi_schema"
            ):
                return
            time.sleep(0.1)
    raise AssertionError("foretell/hello was never published")
