"""A scratch SQLite database that records the statements sent to it, for the tests of the
store's two committers (foretell.store.sqlite_batch and sqlite_loop)."""

from __future__ import annotations

import pathlib
import sqlite3
from collections.abc import Callable
from typing import Any

Call = Callable[[sqlite3.Connection], Any]

ROWS = "CREATE TABLE rows (seq INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER UNIQUE);"


class TracedDb:
    """Connects to `path` with `schema`, counting the COMMITs the committer sends."""

    schema = ROWS

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self.statements: list[str] = []

    def connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(self.schema)
        db.set_trace_callback(self.statements.append)
        return db

    @property
    def commits(self) -> int:
        return self.statements.count("COMMIT")

    def committed(self) -> list[int]:
        """The rows as another connection sees them, in insertion order."""
        other = sqlite3.connect(self.path)
        try:
            return [row[0] for row in other.execute("SELECT n FROM rows ORDER BY seq")]
        finally:
            other.close()


def insert(n: int) -> Call:
    """A call that inserts row `n` (and returns its rowid)."""
    return lambda db: db.execute("INSERT INTO rows (n) VALUES (?)", (n,)).lastrowid
