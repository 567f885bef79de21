"""Output encoding: JSON values, files copied out, their locations recorded."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import io
import pathlib

import pytest

from cog import BaseModel, Path, Secret
from foretell.predictor.encode import encode_output


class Color(enum.Enum):
    RED = "red"


class Result(BaseModel):
    text: str
    image: Path


def test_primitives_and_containers_pass_through(tmp_path: pathlib.Path) -> None:
    """Numbers, strings, lists, dicts, tuples and enums become JSON values."""
    value, files = encode_output(
        {"a": (1, 2.5), "b": [True, None], "c": Color.RED}, files_dir=tmp_path
    )
    assert value == {"a": [1, 2.5], "b": [True, None], "c": "red"}
    assert files == []


def test_files_are_copied_and_located(tmp_path: pathlib.Path) -> None:
    """Each Path output is copied into files_dir and its location in the value is recorded."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "out.png").write_bytes(b"one")
    outputs = tmp_path / "outputs"
    value, files = encode_output(
        [Path(source / "out.png"), Path(source / "out.png")], files_dir=outputs
    )
    assert files == [[0], [1]]
    first, second = (pathlib.Path(v) for v in value)
    assert first != second and first.name == second.name == "out.png"
    assert outputs in first.parents and first.read_bytes() == b"one"


def test_files_inside_models_are_exported(tmp_path: pathlib.Path) -> None:
    """A Path inside a BaseModel output is a file too."""
    image = tmp_path / "cat.jpg"
    image.write_bytes(b"cat")
    value, files = encode_output(Result(text="t", image=Path(image)), files_dir=tmp_path / "o")
    assert files == [["image"]]
    assert value["text"] == "t" and pathlib.Path(value["image"]).read_bytes() == b"cat"


def test_file_objects_are_exported(tmp_path: pathlib.Path) -> None:
    """An IOBase output is written out as a file."""
    value, files = encode_output(io.BytesIO(b"data"), files_dir=tmp_path)
    assert files == [[]]
    assert pathlib.Path(value).read_bytes() == b"data"


def test_dataclasses_and_pydantic_models_become_objects(tmp_path: pathlib.Path) -> None:
    """Dataclasses and pydantic models are encoded field by field."""
    import pydantic

    @dataclasses.dataclass
    class Point:
        x: int

    class Box(pydantic.BaseModel):
        corner: int

    value, _ = encode_output([Point(1), Box(corner=2)], files_dir=tmp_path)
    assert value == [{"x": 1}, {"corner": 2}]


def test_nested_files_are_located_by_path(tmp_path: pathlib.Path) -> None:
    """Files inside lists inside objects are exported, each location given key by key."""
    image = tmp_path / "a.webp"
    image.write_bytes(b"w")
    value, files = encode_output(
        {"pages": [{"img": Path(image)}, {"img": None}], "cover": Path(image)},
        files_dir=tmp_path / "out",
    )
    assert files == [["pages", 0, "img"], ["cover"]]
    assert value["pages"][1] == {"img": None}
    assert pathlib.Path(value["cover"]).name == "a.webp"


def test_file_objects_without_a_name_get_a_bin_extension(tmp_path: pathlib.Path) -> None:
    """An unnamed IOBase output is saved as output.bin, read from its start."""
    buffer = io.BytesIO(b"abc")
    buffer.read()
    value, _ = encode_output(buffer, files_dir=tmp_path)
    assert pathlib.Path(value).name == "output.bin"
    assert pathlib.Path(value).read_bytes() == b"abc"


def test_generators_sets_and_dates_become_json(tmp_path: pathlib.Path) -> None:
    """Generators and sets become lists, dates ISO strings, Secrets their value."""
    value, _ = encode_output(
        {"g": (i for i in range(2)), "s": {3}, "d": datetime.date(2026, 1, 2), "k": Secret("v")},
        files_dir=tmp_path,
    )
    assert value == {"g": [0, 1], "s": [3], "d": "2026-01-02", "k": "v"}


def test_values_that_cannot_be_json_are_refused(tmp_path: pathlib.Path) -> None:
    """An output with no JSON form raises TypeError naming its type."""
    with pytest.raises(TypeError, match="can't encode an output of type bytes"):
        encode_output(b"raw", files_dir=tmp_path)


def test_a_missing_output_file_is_an_error(tmp_path: pathlib.Path) -> None:
    """Returning a path that doesn't exist fails instead of producing a broken URL."""
    with pytest.raises(FileNotFoundError):
        encode_output(Path(tmp_path / "never-written.png"), files_dir=tmp_path / "out")
