"""`foretell models list|get|schema` against a real server."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator

import pytest

from tests.cli.remote import foretell
from tests.server import Server, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("models")
    started = start_server(tmp / "data", ["foretell/hello", "foretell/wordcount"])
    yield started
    started.stop()


def test_list_and_search(server: Server) -> None:
    """list shows every model; a query keeps only the matching ones."""
    everything = foretell(server, "models", "list")
    assert "foretell/hello" in everything.stdout and "foretell/wordcount" in everything.stdout
    found = json.loads(foretell(server, "models", "list", "counts", "--json").stdout)
    assert [f"{m['owner']}/{m['name']}" for m in found] == ["foretell/wordcount"]


def test_get_prints_the_model_with_its_schema(server: Server) -> None:
    """get prints the model object, its latest version's openapi_schema included."""
    model = json.loads(foretell(server, "models", "get", "foretell/hello").stdout)
    assert model["latest_version"]["openapi_schema"]["components"]["schemas"]["Input"]


def test_schema_lists_inputs_and_an_example_that_runs(server: Server) -> None:
    """schema shows each input with its type and limits, and an example run line that works."""
    result = foretell(server, "models", "schema", "foretell/hello")
    assert result.returncode == 0, result.stderr
    assert "repeat" in result.stdout and "maximum 20" in result.stdout
    assert "one of en, fr, de, es" in result.stdout
    example = next(line for line in result.stdout.splitlines() if line.startswith("Example:"))
    args = shlex.split(example.removeprefix("Example:"))
    assert args[:2] == ["foretell", "run"]
    ran = foretell(server, *args[1:], "-i", "delay=0")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("Bonjour Ada")
    whole = json.loads(foretell(server, "models", "schema", "foretell/hello", "--json").stdout)
    assert whole["openapi"].startswith("3.")
