"""Running the installed `foretell` script against a test server (for the CLI's API commands)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

from tests.server import Server

FORETELL = pathlib.Path(sys.executable).parent / "foretell"


def foretell(
    server: Server | None, *args: str, cwd: pathlib.Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`foretell ARGS` as a user runs it, pointed at `server` through the environment."""
    environ = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **env}
    if server is not None:
        environ |= {"FORETELL_BASE_URL": server.url, "REPLICATE_API_TOKEN": server.token}
    return subprocess.run(
        [str(FORETELL), *args], capture_output=True, text=True, cwd=cwd, env=environ, timeout=60
    )
