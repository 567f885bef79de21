"""Validated JSON inputs -> what predict() receives: local files, Secrets, floats."""

from __future__ import annotations

import pathlib
import urllib.parse
from typing import Any

from foretell.predictor.annotations import Kind, ValueType
from foretell.predictor.errors import FieldError, InvalidInput
from foretell.predictor.files import Fetcher, FileInputError, materialise
from foretell.predictor.inspect import InputSpec
from foretell.predictor.types import Path, Secret, URLFile

#: Remote file inputs downloaded at the same time, at most.
MAX_PARALLEL_DOWNLOADS = 8

_Job = tuple[InputSpec, str, str]  # (input, field name for errors, the URL or data: URI)


def to_python(
    specs: list[InputSpec],
    values: dict[str, Any],
    *,
    given: set[str],
    workdir: pathlib.Path,
    root: pathlib.Path,
    allow_local_files: bool = False,
    fetch: Fetcher | None = None,
) -> dict[str, Any]:
    """predict()'s keyword arguments from validated `values`. `given` names the inputs the
    request set; the others hold the model's own defaults, whose local paths are trusted
    (relative to the model's `root`). Raises InvalidInput for files that can't be had."""
    arguments = dict(values)
    jobs: list[_Job] = []
    for spec in specs:
        value = arguments.get(spec.name)
        if value is None:
            continue
        if spec.kind in (Kind.PATH, Kind.FILE):
            local = spec.name not in given
            arguments[spec.name] = _file_slots(spec, value, local, root, jobs)
        else:
            arguments[spec.name] = _plain(spec.type, value)
    files = _materialise_all(jobs, workdir, allow_local_files, fetch)
    return _fill(arguments, files)


def _plain(value_type: ValueType, value: Any) -> Any:
    kind = value_type.kind
    if kind is Kind.ARRAY and value_type.items is not None:
        return [_plain(value_type.items, item) for item in value]
    if kind is Kind.SECRET:
        return Secret(value)
    if kind is Kind.NUMBER and isinstance(value, int):
        return float(value)
    if kind is Kind.UNION and type(value) is int:
        kinds = {variant.kind for variant in value_type.variants}
        return float(value) if Kind.NUMBER in kinds and Kind.INTEGER not in kinds else value
    return value


class _Slot:
    """Where a file input's local object goes once every file has been fetched."""

    def __init__(self, index: int) -> None:
        self.index = index


def _file_slots(
    spec: InputSpec, value: Any, local: bool, root: pathlib.Path, jobs: list[_Job]
) -> Any:
    def slot(item: str, field: str) -> Any:
        if local and not urllib.parse.urlsplit(item).scheme:
            path = Path(root / item)  # the model's own default, e.g. "examples/cat.png"
            return URLFile.open(path, item) if spec.kind is Kind.FILE else path
        jobs.append((spec, field, item))
        return _Slot(len(jobs) - 1)

    if spec.is_list:
        return [slot(item, f"{spec.name}[{i}]") for i, item in enumerate(value)]
    return slot(value, spec.name)


def _materialise_all(
    jobs: list[_Job], workdir: pathlib.Path, allow_local: bool, fetch: Fetcher | None
) -> list[Any]:
    """Every file made local (downloads in parallel), or InvalidInput naming each failure."""

    def one(job: _Job) -> Any:
        spec, _, value = job
        try:
            path = materialise(value, workdir, allow_local_files=allow_local, fetch=fetch)
        except FileInputError as exc:
            return exc
        return URLFile.open(path, value) if spec.kind is Kind.FILE else path

    remote = sum(1 for job in jobs if job[2][:6].lower() in ("http:/", "https:"))
    if remote > 1:
        from concurrent.futures import ThreadPoolExecutor  # on use: it imports logging

        workers = min(MAX_PARALLEL_DOWNLOADS, remote)
        with ThreadPoolExecutor(workers, thread_name_prefix="input-download") as pool:
            results = list(pool.map(one, jobs))
    else:
        results = [one(job) for job in jobs]
    errors = [
        FieldError(field, str(result), "format")
        for (_, field, _), result in zip(jobs, results, strict=True)
        if isinstance(result, FileInputError)
    ]
    if errors:
        for result in results:
            if hasattr(result, "close"):
                result.close()
        raise InvalidInput(errors)
    return results


def _fill(arguments: dict[str, Any], files: list[Any]) -> dict[str, Any]:
    def fill(value: Any) -> Any:
        if isinstance(value, _Slot):
            return files[value.index]
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value

    return {name: fill(value) for name, value in arguments.items()}
