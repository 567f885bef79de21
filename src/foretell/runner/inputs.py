"""A prediction's files on the runner's side: inputs made local for its worker, outputs kept.

Work arrives with FileStore keys and remote URLs, never paths: whichever machine claims
it makes the files local here, and hands its worker only paths on its own disk.
"""

from __future__ import annotations

import logging
import pathlib
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from foretell.core.outputs import Location, replace_at
from foretell.files.protocol import FileStore, MissingFile, output_key
from foretell.predictor.files import safe_name
from foretell.queue.protocol import WorkItem
from foretell.runner.errors import StepFailed, say

log = logging.getLogger("foretell.runner.inputs")


class Downloader(Protocol):
    """The guarded outbound client, as far as inputs need it (GuardedClient)."""

    async def download(self, url: str, target: pathlib.Path) -> pathlib.Path:
        """Fetch `url` into the file `target`, within the size limit."""


async def materialize(
    item: WorkItem, files: FileStore, outbound: Downloader, scratch: pathlib.Path
) -> dict[str, str]:
    """Input URL -> absolute local path, for every file input of `item`: the store's own
    file where it is on this disk, else a copy in `scratch`; remote URLs downloaded into
    `scratch` through the guard (never by the model's process). `scratch` is this
    prediction's own folder, made only if something is written there; the caller removes
    it afterwards. StepFailed, saying which input, if one can't be had."""
    scratch = scratch.absolute()  # a worker's cwd is its model's folder
    paths: dict[str, str] = {}
    for index, (url, key) in enumerate(item.file_keys.items()):
        paths[url] = str(await _stored(url, key, files, scratch / f"stored-{index}"))
    for index, url in enumerate(item.remote_files):
        paths[url] = str(await download_input(url, outbound, scratch / f"remote-{index}"))
    return paths


async def _stored(url: str, key: str, files: FileStore, folder: pathlib.Path) -> pathlib.Path:
    try:
        local = files.local_path(key)
        if local is not None:
            return local
        return await files.copy_to(key, folder / key.rsplit("/", 1)[-1])
    except MissingFile:
        raise StepFailed(f"The input file {url} no longer exists.") from None
    except Exception as exc:
        raise StepFailed(f"Could not read the input file {url}: {say(exc)}") from exc


async def download_input(url: str, outbound: Downloader, folder: pathlib.Path) -> pathlib.Path:
    """A remote file input, fetched through the guard into `folder`, named after its URL."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        name = pathlib.PurePosixPath(urllib.parse.urlsplit(url).path).name or "input"
        return await outbound.download(url, folder / safe_name(name))
    except Exception as exc:
        raise StepFailed(f"Could not download the input file {url}: {say(exc)}") from exc


async def keep_outputs(
    prediction_id: str, value: Any, files_locations: Sequence[Location], files: FileStore
) -> Any:
    """`value` with each output file (a worker's local path, at each location) moved into
    the store and replaced by its key (containers are changed in place, as the worker's
    value is not kept). StepFailed if a file can't be kept."""
    try:
        for location in files_locations:
            source = pathlib.Path(_item_at(value, location))
            stored = await files.put(output_key(prediction_id, source.name), source)
            value = replace_at(value, location, _constant(stored.key))
    except Exception as exc:
        log.exception("keeping the outputs of %s failed", prediction_id)
        raise StepFailed(f"foretell could not keep this prediction's output: {say(exc)}") from exc
    return value


def _item_at(value: Any, location: Location) -> Any:
    for step in location:
        value = value[step]
    return value


def _constant(key: str) -> Callable[[Any], str]:
    return lambda _path: key
