"""Outputs -> JSON-able values, with every file copied out and its location recorded."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import io
import os
import pathlib
import shutil
import uuid
from collections.abc import Iterable
from typing import Any

from foretell.predictor.annotations import pydantic_fields
from foretell.predictor.files import safe_name
from foretell.predictor.types import Secret

Location = list[str | int]


def encode_output(value: Any, *, files_dir: pathlib.Path) -> tuple[Any, list[Location]]:
    """A JSON-able copy of `value`; each file becomes the absolute path of its copy in
    `files_dir`, and the second item lists where those paths sit in the value."""
    files: list[Location] = []
    encoded = _encode(value, files_dir, [], files)
    return encoded, files


def _encode(value: Any, files_dir: pathlib.Path, here: Location, files: list[Location]) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, os.PathLike | io.IOBase):
        files.append(list(here))
        return str(_export_file(value, files_dir))
    if isinstance(value, enum.Enum):
        return _encode(value.value, files_dir, here, files)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _encode(v, files_dir, [*here, str(k)], files) for k, v in value.items()}
    if isinstance(value, Secret):
        return value.get_secret_value()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return _encode(fields, files_dir, here, files)
    model_fields = pydantic_fields(type(value))
    if model_fields is not None:
        fields = {name: getattr(value, name) for name in model_fields}
        return _encode(fields, files_dir, here, files)
    if hasattr(value, "tolist"):  # numpy arrays and scalars, without importing numpy
        return _encode(value.tolist(), files_dir, here, files)
    if isinstance(value, Iterable) and not isinstance(value, bytes | bytearray):
        return [_encode(v, files_dir, [*here, i], files) for i, v in enumerate(value)]
    raise TypeError(f"can't encode an output of type {type(value).__name__} as JSON")


def _export_file(value: os.PathLike[str] | io.IOBase, files_dir: pathlib.Path) -> pathlib.Path:
    """Copy the file into its own directory in `files_dir`, so equal basenames never collide."""
    target_dir = files_dir / uuid.uuid4().hex[:12]
    target_dir.mkdir(parents=True)
    if isinstance(value, os.PathLike):
        source = pathlib.Path(value)
        target = target_dir / safe_name(source.name, "output")
        shutil.copyfile(source, target)
        return target
    name = pathlib.Path(str(getattr(value, "name", "") or "output")).name
    target = target_dir / safe_name(name if "." in name else name + ".bin", "output.bin")
    value.seek(0) if value.seekable() else None
    with target.open("wb") as out:
        shutil.copyfileobj(value, out)
    return target
