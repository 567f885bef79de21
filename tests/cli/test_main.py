"""The `foretell` command itself: --version, help that reads well, built-in model names."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from foretell import __version__
from tests.cli.remote import foretell

#: prints the help of every command and subcommand, each after a `=== path` line
HELP_ALL = """
from foretell.cli import command

def walk(cmd, path):
    yield path
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from walk(sub, [*path, name])

root = command()
for path in walk(root, []):
    print("=== " + " ".join(path), flush=True)
    try:
        root.main([*path, "--help"], prog_name="foretell", standalone_mode=False)
    except SystemExit:
        pass
"""


def test_version() -> None:
    """--version prints the package version."""
    result = foretell(None, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"foretell {__version__}"


def test_help_has_no_python_type_metavars() -> None:
    """No `<list[str]>`, `<int>` or `<bool>` in any command's help: options name their values."""
    result = subprocess.run(
        [sys.executable, "-c", HELP_ALL],
        capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    helps = dict(part.split("\n", 1) for part in result.stdout.split("=== ")[1:])
    assert {"run", "mcp", "models list", "predictions stream", "tokens revoke"} <= set(helps)
    for path, text in helps.items():
        assert not re.search(r"<\w+(\[\w+\])?( range)?>", text), (path, text)
    assert "-i, --input NAME=VALUE" in helps["run"] and "FORETELL_BASE_URL" in helps["run"]


def test_shell_completion_is_offered() -> None:
    """--show-completion prints a completion script for the shell."""
    result = foretell(None, "--show-completion", "bash")
    assert result.returncode == 0
    assert "complete" in result.stdout


def test_predict_accepts_a_built_in_model_name() -> None:
    """`foretell predict foretell/hello` runs the built-in model, as `serve` would serve it."""
    result = foretell(None, "predict", "foretell/hello", "-i", "name=Ada", "-i", "delay=0")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello Ada! \nHello Ada! \nHello Ada! \n"
