"""Files: outputs come back as files, input temp dirs are always removed."""

from __future__ import annotations

import base64
import pathlib

import pytest

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
    leftovers = [p for p in runner.scratch.rglob("*") if p.is_file() and p.name != "owner.pid"]
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


@pytest.mark.parametrize("fixture", ["temp_outputs", "temp_outputs_async"])
async def test_temp_files_of_a_prediction_are_swept_after_it(
    runner: Runner, tmp_path: pathlib.Path, fixture: str
) -> None:
    """What predict() leaves in the temp dir (mkdtemp outputs, scratch files) is removed
    once its outputs are copied out; what setup() put there stays for the next one."""
    name = await add(runner, fixture)
    for text in ("a", "b"):
        result = await predict(runner, name, tmp_path, text=text)
        assert result.done.status == "succeeded", result.done.error
        assert pathlib.Path(result.done.output).read_text() == f"{text}w"
    private = pathlib.Path(result.logs.strip())
    assert [p.name.split("-")[0] for p in private.iterdir()] == ["setup"]


async def test_a_temp_dir_of_the_models_own_is_never_swept(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """TMPDIR set in cog.yaml's environment wins, and foretell deletes nothing there."""
    own = tmp_path / "own-tmp"
    own.mkdir()
    name = await add(runner, "temp_outputs", env={"TMPDIR": str(own)})
    result = await predict(runner, name, tmp_path / "out", text="c")
    assert result.done.status == "succeeded", result.done.error
    assert sorted(p.name.split("-")[0] for p in own.iterdir() if p.is_dir()) == [
        "predict",
        "setup",
    ]
