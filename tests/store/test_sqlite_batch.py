"""Group commit in the embedded store: calls made while its thread is busy share a commit."""

from __future__ import annotations

import asyncio
import datetime
import pathlib
import sqlite3
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from foretell.core.prediction import Prediction, start
from foretell.core.status import Status
from foretell.errors import StoreError
from foretell.store.sqlite import SQLiteStore
from foretell.store.sqlite_batch import GroupCommit
from tests.store.traced import ROWS, Call, TracedDb, insert

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


class Traced(TracedDb):
    """A GroupCommit on a scratch table, counting the COMMITs it sends to SQLite."""

    schema = (
        ROWS + "CREATE TABLE parents (id INTEGER PRIMARY KEY);"
        "CREATE TABLE children (parent INTEGER"
        " REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED);"
    )

    def __init__(self, path: pathlib.Path) -> None:
        super().__init__(path)
        self.commit = GroupCommit("test-sqlite")

    async def batch(self, *calls: Call) -> list[asyncio.Task[Any]]:
        """Run `calls` as one batch: they are all queued while the thread is held in another."""
        loop = asyncio.get_running_loop()
        inside, release = asyncio.Event(), threading.Event()

        def hold(db: sqlite3.Connection) -> None:
            loop.call_soon_threadsafe(inside.set)
            release.wait(timeout=30)

        held = asyncio.ensure_future(self.commit.call(hold))
        await inside.wait()
        made = [asyncio.ensure_future(self.commit.call(call)) for call in calls]
        # Each task makes its call in its first step; those steps were scheduled before this.
        loop.call_soon(release.set)
        await held
        await asyncio.wait(made)
        return made


@pytest.fixture
async def traced(tmp_path: pathlib.Path) -> AsyncIterator[Traced]:
    engine = Traced(tmp_path / "batch.db")
    await engine.commit.open(engine.connect)
    yield engine
    await engine.commit.close()


def count(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM rows").fetchone()[0])


async def test_calls_queued_while_the_thread_is_busy_share_one_commit(traced: Traced) -> None:
    """Fifty writes made while one call runs commit together, once, and all of them land."""
    made = await traced.batch(*(insert(n) for n in range(50)))
    assert all(task.exception() is None for task in made)
    assert traced.commits == 2  # the holding call's, then the batch's
    assert traced.committed() == list(range(50))


async def test_calls_run_in_the_order_they_were_made(traced: Traced) -> None:
    """Within a batch, calls run in order: a read made after writes sees them."""
    made = await traced.batch(*(insert(n) for n in range(20)), count, insert(20))
    results = [task.result() for task in made]
    assert results[20] == 20
    rowids = results[:20] + results[21:]
    assert rowids == sorted(rowids)
    assert traced.committed() == list(range(21))


async def test_a_failing_call_raises_its_own_error_and_the_others_commit(traced: Traced) -> None:
    """The failing call's writes are undone; the calls before and after it commit."""

    def write_then_fail(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO rows (n) VALUES (100)")
        raise ValueError("this call fails")

    ok1, failed, duplicate, ok2 = await traced.batch(
        insert(1), write_then_fail, insert(1), insert(2)
    )
    assert ok1.exception() is None and ok2.exception() is None
    with pytest.raises(ValueError, match="this call fails"):
        failed.result()
    with pytest.raises(sqlite3.IntegrityError):
        duplicate.result()
    assert traced.committed() == [1, 2]
    assert traced.commits == 2


async def test_calls_whose_writes_sqlite_undid_run_again(traced: Traced) -> None:
    """When a failure rolls back the whole transaction, the other calls still commit."""

    def roll_back_everything(db: sqlite3.Connection) -> None:
        db.execute("ROLLBACK")  # what SQLite itself does on a full disk or an I/O error
        raise sqlite3.OperationalError("database or disk is full")

    made = await traced.batch(insert(1), insert(2), roll_back_everything, insert(3))
    assert [task.exception() is None for task in made] == [True, True, False, True]
    assert traced.committed() == [1, 2, 3]


async def test_a_failed_commit_fails_every_call_of_its_batch(traced: Traced) -> None:
    """Nothing of the batch is committed, and each caller learns it."""
    orphan: Call = lambda db: db.execute("INSERT INTO children VALUES (7)")  # noqa: E731
    made = await traced.batch(insert(1), orphan, insert(2))
    for task in made:
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            task.result()
    assert traced.committed() == []
    assert (await traced.commit.call(insert(3))) > 0  # the connection is usable again


async def test_a_call_cancelled_before_its_turn_does_not_run(traced: Traced) -> None:
    """As with a thread pool, a call cancelled while queued is skipped."""
    loop = asyncio.get_running_loop()
    inside, release = asyncio.Event(), threading.Event()

    def hold(db: sqlite3.Connection) -> None:
        loop.call_soon_threadsafe(inside.set)
        release.wait(timeout=30)

    held = asyncio.ensure_future(traced.commit.call(hold))
    await inside.wait()
    cancelled = asyncio.ensure_future(traced.commit.call(insert(1)))
    kept = asyncio.ensure_future(traced.commit.call(insert(2)))
    loop.call_soon(cancelled.cancel)  # after both tasks have queued their calls
    loop.call_soon(release.set)
    await held
    await kept
    assert cancelled.cancelled()
    assert traced.committed() == [2]


# ---- through SQLiteStore -----------------------------------------------------------------


def _prediction(n: int) -> Prediction:
    return Prediction(
        id=f"p{n:04d}",
        account="ann",
        model="acme/echo",
        version="v" * 64,
        input={"n": n},
        created_at=T0 + datetime.timedelta(seconds=n),
    )


def _stored_statuses(path: pathlib.Path) -> dict[str, str]:
    """What a fresh connection finds in the file: every write that returned is in it."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT id, status FROM predictions").fetchall()
    db.close()
    return dict(rows)


@pytest.mark.parametrize("group_commit", [True, False])
async def test_many_concurrent_writes_all_commit(
    tmp_path: pathlib.Path, group_commit: bool
) -> None:
    """Creates and transitions made at once are all in the file when the store is reopened."""
    path = tmp_path / "foretell.db"
    store = SQLiteStore(path, group_commit=group_commit)
    await store.open()
    created = [_prediction(n) for n in range(200)]
    await asyncio.gather(*(store.create_prediction(p) for p in created))
    moved = await asyncio.gather(
        *(store.transition(start(p, T0), [Status.STARTING]) for p in created[::2])
    )
    assert all(moved)
    await store.close()
    statuses = _stored_statuses(path)
    assert len(statuses) == 200
    assert sum(s == "processing" for s in statuses.values()) == 100
    reopened = SQLiteStore(path)
    await reopened.open()
    try:
        assert await reopened.get_prediction("ann", "p0001") == created[1]
    finally:
        await reopened.close()


async def test_a_failing_write_among_concurrent_ones_fails_alone(tmp_path: pathlib.Path) -> None:
    """A duplicate create raises StoreError to its caller; the writes around it commit."""
    path = tmp_path / "foretell.db"
    store = SQLiteStore(path)
    await store.open()
    await store.create_prediction(_prediction(5))
    writes = [store.create_prediction(_prediction(n)) for n in range(10)]
    outcomes = await asyncio.gather(*writes, return_exceptions=True)
    await store.close()
    failed = [i for i, outcome in enumerate(outcomes) if outcome is not None]
    assert failed == [5]
    assert isinstance(outcomes[5], StoreError)
    assert "UNIQUE" in str(outcomes[5])
    assert len(_stored_statuses(path)) == 10


async def test_close_waits_for_the_writes_already_made(tmp_path: pathlib.Path) -> None:
    """close() runs every call made before it; a call after it is a StoreError."""
    path = tmp_path / "foretell.db"
    store = SQLiteStore(path)
    await store.open()
    writes = [store.create_prediction(_prediction(n)) for n in range(100)]
    # gather starts its tasks in order: every create is queued before close() is.
    outcomes = await asyncio.gather(*writes, store.close())
    assert outcomes == [None] * 101
    assert len(_stored_statuses(path)) == 100
    with pytest.raises(StoreError, match="not open"):
        await store.count_tokens()
