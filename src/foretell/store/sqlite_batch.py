"""Group commit for the embedded store: one thread owns the SQLite connection, and the calls
that queue up while it is busy run as one transaction, each in its own savepoint, then share
one COMMIT. A caller's await returns only after that COMMIT, so durability is as with one
transaction per call; what is saved is the commit (and its WAL append) per call, and the
thread hand-off: a whole batch is handed back to the event loop in one wake-up.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

#: The most calls in one transaction: bounds how long the first of them waits for its commit.
MAX_BATCH = 256


@dataclass(slots=True, eq=False)
class Call:
    """One queued call and, once it ran, its outcome."""

    fn: Callable[[sqlite3.Connection], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    result: Any = None
    error: BaseException | None = None
    #: `fn` makes one write statement at most (SQLite undoes a failed statement by itself),
    #: so it needs no savepoint of its own in a batch
    single: bool = False


@dataclass(slots=True, eq=False)
class _Stop:
    """Queued by close(): the thread runs what is ahead of it, closes the connection, ends."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]


class GroupCommit:
    """The thread that runs every call on one SQLite connection, a batch per transaction.

    `max_batch=1` gives one transaction per call (the behaviour before group commit, kept
    for bench/store_writes.py). Calls run in the order they were made.
    """

    def __init__(self, name: str = "sqlite", max_batch: int = MAX_BATCH) -> None:
        self.name, self.max_batch = name, max_batch
        self._queue: queue.SimpleQueue[Call | _Stop] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._open = False

    async def open(self, connect: Callable[[], sqlite3.Connection]) -> None:
        """Start the thread and run `connect` on it; its exception, if any, is raised here."""
        if self._thread is not None:
            raise sqlite3.ProgrammingError("the store is already open")
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        self._thread = threading.Thread(
            target=self._main, args=(connect, loop, ready), name=self.name, daemon=True
        )
        self._thread.start()
        try:
            await ready
        except BaseException:
            self._thread = None
            raise
        self._open = True

    async def call(self, fn: Callable[[sqlite3.Connection], T], *, single: bool = False) -> T:
        """Run `fn(db)` on the thread; return once its transaction has committed.

        An exception from `fn` undoes only its own writes and is raised here; the other
        calls of its batch still commit. A failed COMMIT is raised to every call of the batch.
        """
        if not self._open:
            raise sqlite3.ProgrammingError("the store is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(Call(fn, loop, future, single=single))
        return await future

    async def close(self) -> None:
        """Run every call already queued, then close the connection and end the thread."""
        if not self._open:
            return
        self._open = False
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queue.put(_Stop(loop, done))
        await done
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    # ---- on the thread -----------------------------------------------------------------

    def _main(
        self,
        connect: Callable[[], sqlite3.Connection],
        loop: asyncio.AbstractEventLoop,
        ready: asyncio.Future[None],
    ) -> None:
        try:
            db = connect()
            db.isolation_level = None  # autocommit: the batches issue BEGIN and COMMIT
        except Exception as exc:
            loop.call_soon_threadsafe(_set, ready, None, exc)
            return
        loop.call_soon_threadsafe(_set, ready, None, None)
        stop = None
        try:
            while stop is None:
                batch, stop = self._next_batch()
                if batch:
                    run_batch(db, batch)
        finally:
            db.close()
            if stop is not None:
                stop.loop.call_soon_threadsafe(_set, stop.future, None, None)

    def _next_batch(self) -> tuple[list[Call], _Stop | None]:
        """Wait for one call, then take every call already queued behind it (up to max_batch)."""
        item = self._queue.get()
        batch: list[Call] = []
        while True:
            if isinstance(item, _Stop):
                return batch, item
            batch.append(item)
            if len(batch) >= self.max_batch:
                return batch, None
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, None


def run_batch(
    db: sqlite3.Connection,
    batch: list[Call],
    hand_back: Callable[[list[Call]], None] | None = None,
) -> None:
    # A caller cancelled before its turn is skipped, as a thread pool skips a cancelled job.
    # (Reading a future's state from this thread is a plain attribute read.)
    todo = [call for call in batch if not call.future.done()]
    ran = list(todo)
    while todo:
        todo = _transaction(db, todo) if len(todo) > 1 else _alone(db, todo[0])
    (hand_back or _hand_back)(ran)


def _alone(db: sqlite3.Connection, call: Call) -> list[Call]:
    """A batch of one needs no savepoint: its own transaction, rolled back if it raises.
    A call of one write statement runs in autocommit: that statement is its transaction
    (the same commit, without a BEGIN and a COMMIT to run)."""
    if call.single and not db.in_transaction:
        try:
            call.result = call.fn(db)
        except Exception as exc:
            call.result, call.error = None, exc
        return []
    try:
        db.execute("BEGIN")
        call.result = call.fn(db)
        db.execute("COMMIT")
    except Exception as exc:
        call.result, call.error = None, exc
        _rollback(db)
    return []


def _transaction(db: sqlite3.Connection, calls: list[Call]) -> list[Call]:
    """Run `calls` in one transaction; return those to run again because SQLite undid them.

    Some errors (a full disk, an I/O error) make SQLite roll back the whole transaction, not
    just the statement: then the calls that had succeeded lost their writes and run again in
    the next transaction, with those not reached yet. The failing call keeps its error, so
    every retry round is shorter.
    """
    try:
        db.execute("BEGIN")
        for index, call in enumerate(calls):
            if not _in_savepoint(db, call) and not db.in_transaction:
                again = [c for c in calls[:index] if c.error is None] + calls[index + 1 :]
                for undone in again:
                    undone.result = None
                return again
        db.execute("COMMIT")
    except sqlite3.Error as exc:  # BEGIN, a savepoint or the COMMIT failed: nothing committed
        _rollback(db)
        for call in calls:
            if call.error is None:
                call.result, call.error = None, exc
    return []


def _in_savepoint(db: sqlite3.Connection, call: Call) -> bool:
    """Run one call inside its own savepoint; if it raises, undo its writes only. A call of
    one write statement runs without one: a failed statement leaves nothing behind."""
    if call.single:
        try:
            call.result = call.fn(db)
        except Exception as exc:
            call.error = exc
            return False
        return True
    db.execute("SAVEPOINT call")
    try:
        call.result = call.fn(db)
    except Exception as exc:
        call.error = exc
        if db.in_transaction:
            db.execute("ROLLBACK TO call")
            db.execute("RELEASE call")
        return False
    db.execute("RELEASE call")
    return True


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:
        try:
            db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the error being reported already matters more; the next BEGIN will tell


def _hand_back(calls: list[Call]) -> None:
    """Settle the callers' futures: one wake-up of each event loop per batch, not per call."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Call]] = {}
    for call in calls:
        by_loop.setdefault(call.loop, []).append(call)
    for loop, group in by_loop.items():
        try:
            loop.call_soon_threadsafe(settle, group)
        except RuntimeError:  # that loop is closed: nobody is waiting any more
            pass


def settle(calls: list[Call]) -> None:
    for call in calls:
        _set(call.future, call.result, call.error)


def _set(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # cancelled while it ran
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
