"""Hosting the versions pushed to a server (`foretell push`) or made by trainings.

Every runner that hosts pushed versions (`foretell serve`; `foretell worker --pushed`) reads
the store's versions every few seconds, fetches each new one's archive (and a trained one's
weights) from the FileStore into its cache, and hosts it like a command-line model under
`owner/name:id`. The first runner to describe a version still `building` marks it `ready`
with its schema (or `failed` with the reason), which makes it the model's latest; a deleted
version stops being hosted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import pathlib
import shutil
import time
from collections.abc import Callable
from typing import Any

from foretell.core.models import Model
from foretell.core.versions import StoredVersion, VersionStatus
from foretell.errors import StoreError
from foretell.files.protocol import FileStore
from foretell.hosting import BringupHooks, ModelHost, description, readme
from foretell.packaging import ArchiveError, unpack
from foretell.store.protocol import Store

log = logging.getLogger("foretell.pushed_versions")

#: how often the store's versions are read
SYNC_S = 2.0
#: the most a version's archive may expand to on a runner
MAX_UNPACKED_BYTES = 64 * 2**30
#: build log lines are written to the store at most this often
LOG_EVERY_S = 1.0


class PushedVersions:
    """Keeps this runner hosting every stored version that hasn't failed."""

    def __init__(
        self,
        host: ModelHost,
        store: Store,
        files: FileStore,
        cache_dir: pathlib.Path,
        *,
        interval_s: float = SYNC_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.store = store
        self.files = files
        self.cache_dir = cache_dir
        self.interval_s = interval_s
        self.clock = clock
        #: hosted here: unit -> version
        self.hosted: dict[str, StoredVersion] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        """Sync in the background until close()."""
        self._task = asyncio.create_task(self._syncing())

    def nudge(self) -> None:
        """A version was pushed: sync soon."""
        self._wake.set()

    async def close(self) -> None:
        """Stop syncing (what is hosted stays until the host closes)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _syncing(self) -> None:
        while True:
            try:
                await self.sync()
            except StoreError as exc:  # the next round tries again
                log.warning("can't read the pushed versions: %s", exc)
            except Exception:  # a bug must not stop every later version from being hosted
                log.exception("syncing the pushed versions failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval_s):
                    await self._wake.wait()
            self._wake.clear()

    async def sync(self) -> None:
        """Host the versions not hosted yet; stop hosting the deleted ones."""
        live = {
            v.unit: v for v in await self.store.list_versions() if v.status != VersionStatus.FAILED
        }
        for unit in [u for u in self.hosted if u not in live]:
            del self.hosted[unit]
            await self.host.remove(unit)
        for unit, version in live.items():
            if unit not in self.hosted:
                self.hosted[unit] = version
                await self._host(version)

    async def _host(self, version: StoredVersion) -> None:
        build = BuildLog(self.store, version, self.clock)
        try:
            path, env = await self._fetch(version)
        except (ArchiveError, OSError, LookupError) as exc:
            await build.failed(f"can't fetch the version's files: {exc}")
            return
        owner, name = version.model.split("/", 1)
        model = Model(
            owner, name, version.id, {}, version.created_at, description=description(path),
            readme=readme(path), runner_name=version.unit,
        )  # fmt: skip
        await self.host.add(model, path, env=env, hooks=build.hooks())

    async def _fetch(self, version: StoredVersion) -> tuple[pathlib.Path, dict[str, str]]:
        """The version's directory in the cache (unpacked once), and its environment."""
        home = self.cache_dir / version.id
        code = home / "model"
        if not code.is_dir():
            data = await self.files.read(version.source_key)
            scratch = home / "unpacking"
            shutil.rmtree(scratch, ignore_errors=True)
            await asyncio.to_thread(unpack, data, scratch, max_bytes=MAX_UNPACKED_BYTES)
            scratch.rename(code)  # whole or not at all: a crash mid-unpack leaves no model
        env: dict[str, str] = {}
        if version.weights_key is not None:
            weights = home / "weights" / version.weights_key.rsplit("/", 1)[-1]
            if not weights.is_file():
                weights.parent.mkdir(parents=True, exist_ok=True)
                await self.files.copy_to(version.weights_key, weights)
            env["COG_WEIGHTS"] = str(weights)
        return code, env


class BuildLog:
    """A version's build, reported back to its row in the store while it is `building`
    (the runner that described it first decides; later ones leave the row alone)."""

    def __init__(self, store: Store, version: StoredVersion, clock: Callable[[], float]) -> None:
        self.store = store
        self.version = version
        self.clock = clock
        self.lines: list[str] = []
        self._written_at = 0.0
        self._tasks: set[asyncio.Task[Any]] = set()
        #: one write at a time: a progress write read before `ready` must not undo it
        self._lock = asyncio.Lock()

    def hooks(self) -> BringupHooks:
        """The host's hooks, each writing in the background."""
        return BringupHooks(
            progress=self._progress,
            described=lambda schema: self._spawn(self.described(schema)),
            failed=lambda error: self._spawn(self.failed(error)),
        )

    def _progress(self, line: str) -> None:
        self.lines.append(line)
        if self.clock() - self._written_at >= LOG_EVERY_S:
            self._written_at = self.clock()
            self._spawn(self._save())

    async def described(self, schema: dict[str, Any]) -> None:
        """It imported: the version is ready, its schema known."""
        self.lines.append("Described itself: ready")
        await self._save(status=VersionStatus.READY, openapi_schema=schema)

    async def failed(self, error: str) -> None:
        """It can't be served: the version failed (never the model's latest)."""
        self.lines.append(f"Failed: {error}")
        await self._save(status=VersionStatus.FAILED, error=error)

    async def _save(self, **changes: Any) -> None:
        async with self._lock:
            await self._write(**changes)

    async def _write(self, **changes: Any) -> None:
        try:
            current = await self.store.get_version(self.version.id)
            if current is None or current.status != VersionStatus.BUILDING:
                return  # built (or deleted) already: another runner told
            log_text = current.build_log + "".join(f"{line}\n" for line in self.lines)
            self.lines.clear()
            await self.store.save_version(
                dataclasses.replace(current, build_log=log_text, **changes)
            )
        except StoreError as exc:
            log.warning("can't report %s's build: %s", self.version.unit, exc)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
