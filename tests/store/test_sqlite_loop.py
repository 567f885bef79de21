"""Group commit on the event loop: the calls of one loop turn share a transaction and one
COMMIT; a failing call undoes only itself; reads need no commit; the WAL is checkpointed
off the loop; close runs what was asked before it."""

from __future__ import annotations

import asyncio
import pathlib
import sqlite3
from collections.abc import AsyncIterator

import pytest

from foretell.store.sqlite_loop import LoopCommit
from tests.store.traced import TracedDb, insert


class Traced(TracedDb):
    """A LoopCommit on a scratch table, counting the COMMITs it sends to SQLite."""

    def __init__(self, path: pathlib.Path) -> None:
        super().__init__(path)
        self.commit = LoopCommit("test-sqlite")


@pytest.fixture
async def traced(tmp_path: pathlib.Path) -> AsyncIterator[Traced]:
    made = Traced(tmp_path / "t.db")
    await made.commit.open(made.connect)
    yield made
    await made.commit.close()


async def test_the_calls_of_one_turn_share_one_commit(traced: Traced) -> None:
    """Fifty writes made together commit together, in order, all visible elsewhere."""
    await asyncio.gather(*(traced.commit.call(insert(n)) for n in range(50)))
    assert traced.commits == 1
    assert traced.committed() == list(range(50))


async def test_a_failing_call_undoes_only_itself(traced: Traced) -> None:
    """A constraint error is raised to its caller; the calls around it commit."""
    results = await asyncio.gather(
        traced.commit.call(insert(1)),
        traced.commit.call(insert(1)),
        traced.commit.call(insert(2)),
        return_exceptions=True,
    )
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert traced.committed() == [1, 2]


async def test_a_read_runs_at_once_and_sees_what_committed(traced: Traced) -> None:
    """Reads don't wait for a loop turn and start no transaction of their own."""
    await traced.commit.call(insert(7))
    before = traced.commits
    count = traced.commit.read(lambda db: db.execute("SELECT count(*) FROM rows").fetchone()[0])
    assert count == 1 and traced.commits == before


async def test_close_runs_the_calls_made_before_it(tmp_path: pathlib.Path) -> None:
    """A write asked for just before close still commits; one after is refused."""
    traced = Traced(tmp_path / "t.db")
    await traced.commit.open(traced.connect)
    pending = asyncio.ensure_future(traced.commit.call(insert(3)))
    closing = asyncio.ensure_future(traced.commit.close())  # its first step runs after the call's
    await closing
    assert await pending is not None
    assert traced.committed() == [3]
    with pytest.raises(sqlite3.ProgrammingError):
        await traced.commit.call(insert(4))


async def test_the_wal_is_checkpointed_off_the_loop(traced: Traced) -> None:
    """The loop's connection never checkpoints (that waits for the disk); the thread does."""
    assert traced.commit.read(lambda db: db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]) == 0
