"""Files: outputs come back as files, input temp dirs are always removed."""

from __future__ import annotations

import base64
import pathlib

from foretell.runner import Runner

from .conftest import add, predict


async def test_path_output_comes_back_as_a_file(runner: Runner, tmp_path: pathlib.Path) -> None:
    """A returned Path is copied into the request's output directory."""
    name = await add(runner, "path_output")
    result = await predict(runner, name, tmp_path, text="hi there")
    assert result.done.files == [[]]
    path = pathlib.Path(result.done.output)
    assert path.name == "out.txt" and path.read_text() == "hi there"
    assert tmp_path in path.parents


async def test_list_of_paths_keeps_order_and_names(runner: Runner, tmp_path: pathlib.Path) -> None:
    """Files with the same basename don't collide and stay in order."""
    name = await add(runner, "list_of_paths")
    result = await predict(runner, name, tmp_path, n=4)
    assert result.done.files == [[0], [1], [2], [3]]
    assert [pathlib.Path(p).read_text() for p in result.done.output] == ["0", "1", "2", "3"]


async def test_input_files_are_removed_after_the_prediction(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """The per-prediction input directory is gone once the prediction is done."""
    name = await add(runner, "path_input")
    uri = "data:text/plain;base64," + base64.b64encode(b"payload").decode()
    result = await predict(runner, name, tmp_path, image=uri)
    where, content, existed = result.done.output.split("|")
    assert (content, existed) == ("payload", "True")
    assert not pathlib.Path(where).exists()
    assert not pathlib.Path(where).parent.parent.exists()


async def test_input_files_are_removed_after_a_failure(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """A prediction that fails validation of one input leaves no downloaded files."""
    name = await add(runner, "path_input")
    result = await predict(runner, name, tmp_path, image="/etc/hostname")
    assert result.done.status == "failed"
    assert "must be an http(s) URL or a data: URI" in (result.done.error or "")
    leftovers = [p for p in runner.scratch.rglob("*") if p.is_file()]
    assert leftovers == []


async def test_input_files_of_a_crashed_worker_are_removed(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """The runner removes the input directory a worker that died mid-prediction left behind."""
    name = await add(runner, "path_input_crash")
    uri = "data:text/plain;base64," + base64.b64encode(b"payload").decode()
    result = await predict(runner, name, tmp_path, image=uri)
    assert result.done.status == "failed"
    where = pathlib.Path(result.logs.split("input at ")[1].strip())
    assert runner.scratch in where.parents
    assert not where.exists() and not where.parent.parent.exists()
    assert (await predict(runner, name, tmp_path, image=uri, crash=False)).done.output == "alive"
