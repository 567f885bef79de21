"""Group commit on the event loop itself: the calls made during one turn of the loop run as
one transaction (each in its own savepoint, as in foretell.store.sqlite_batch) at the end of
that turn, then share one COMMIT; each caller's await returns after it.

No thread hand-off per call (a wake-up of a thread and one of the loop, each way): a
prediction's few small writes cost microseconds here. What could block the loop is kept off
it: the WAL is checkpointed (the only step that waits for the disk, with synchronous=NORMAL)
by a thread of its own, and the connection waits for another process's lock at most
BUSY_TIMEOUT_S.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import TypeVar

from foretell.store.sqlite_batch import MAX_BATCH, Call, run_batch, settle

T = TypeVar("T")
log = logging.getLogger("foretell.store")

#: how long a write waits for another process (`foretell tokens create`) to release the lock
BUSY_TIMEOUT_S = 2.0
#: how often the checkpointer moves the WAL into the database file
CHECKPOINT_S = 1.0


class LoopCommit:
    """The store's connection, used on the event loop; calls batched per loop turn."""

    def __init__(self, name: str = "sqlite", max_batch: int = MAX_BATCH) -> None:
        self.name, self.max_batch = name, max_batch
        self._db: sqlite3.Connection | None = None
        self._pending: list[Call] = []
        self._scheduled = False
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None

    async def open(self, connect: Callable[[], sqlite3.Connection]) -> None:
        """Connect (migrations run here, before anything is served), start the checkpointer."""
        if self._db is not None:
            raise sqlite3.ProgrammingError("the store is already open")
        db = connect()
        db.isolation_level = None  # autocommit: the batches issue BEGIN and COMMIT
        db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        db.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer does it, off the loop
        self._db = db
        path = db.execute("PRAGMA database_list").fetchone()[2]
        self._checkpointer = threading.Thread(
            target=self._checkpoint_forever, args=(path,), name=f"{self.name}-checkpoint",
            daemon=True,
        )  # fmt: skip
        self._checkpointer.start()

    async def call(self, fn: Callable[[sqlite3.Connection], T], *, single: bool = False) -> T:
        """Run `fn(db)` at the end of this loop turn; return once its transaction committed."""
        if self._db is None:
            raise sqlite3.ProgrammingError("the store is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append(Call(fn, loop, future, single=single))
        if not self._scheduled:
            self._scheduled = True
            # two hops: the loop polls its sockets once more before the batch runs, so the
            # writes the requests and results that arrived meanwhile make share its commit
            loop.call_soon(loop.call_soon, self._flush)
        return await future

    def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read at once: it sees what has committed (every awaited write has), and
        takes no part in a batch."""
        if self._db is None:
            raise sqlite3.ProgrammingError("the store is not open")
        return fn(self._db)

    def _flush(self) -> None:
        self._scheduled = False
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            assert self._db is not None  # close() runs what is pending before it lets go
            run_batch(self._db, batch, settle)

    async def close(self) -> None:
        """Run the calls already made, then close the connection (which checkpoints)."""
        if self._db is None:
            return
        self._stop.set()
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.join)
            self._checkpointer = None
        self._flush()  # no await from here on: no call can come in between
        db, self._db = self._db, None
        db.close()

    def _checkpoint_forever(self, path: str) -> None:
        try:
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            log.error("can't checkpoint %s (its WAL will grow until restart): %s", path, exc)
            return
        try:
            db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            while not self._stop.wait(CHECKPOINT_S):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:  # busy or gone: the next round tries again
                    log.warning("checkpointing %s failed: %s", path, exc)
        finally:
            db.close()
