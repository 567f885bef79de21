"""Uploaded files in the embedded store: a row per file (its record as JSON), listed newest
first per account, found by id, and swept once expired."""

from __future__ import annotations

import datetime
import sqlite3

from foretell.store.protocol import FileRecord, Page
from foretell.store.rows import dump_file, load_file
from foretell.store.sqlite_calls import SQLiteCalls


class SQLiteFiles(SQLiteCalls):
    """The Store protocol's file methods."""

    async def add_file(self, record: FileRecord) -> None:
        row = (
            record.id, record.account, record.created_at.isoformat(), dump_file(record),
            record.expires_at.isoformat(),
        )  # fmt: skip
        await self._run(
            lambda db: db.execute(
                "INSERT INTO files (id, account, created_at, data, expires_at) VALUES (?,?,?,?,?)",
                row,
            )
        )

    async def get_file(self, account: str | None, file_id: str) -> FileRecord | None:
        def run(db: sqlite3.Connection) -> FileRecord | None:
            row = db.execute("SELECT account, data FROM files WHERE id = ?", (file_id,)).fetchone()
            if row is None or (account is not None and row[0] != account):
                return None
            return load_file(row[1])

        return await self._read(run)

    async def list_files(self, account: str, *, limit: int, cursor: str | None = None) -> Page:
        return await self._page("files", ["account = ?"], [account], limit, cursor, load_file)

    async def delete_file(self, account: str, file_id: str) -> bool:
        def run(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "DELETE FROM files WHERE id = ? AND account = ?", (file_id, account)
            )
            return cursor.rowcount > 0

        return await self._run(run)

    async def expired_files(self, now: datetime.datetime, limit: int) -> list[FileRecord]:
        def run(db: sqlite3.Connection) -> list[FileRecord]:
            rows = db.execute(
                "SELECT data FROM files WHERE expires_at < ? ORDER BY expires_at LIMIT ?",
                (now.isoformat(), limit),
            ).fetchall()
            return [load_file(row[0]) for row in rows]

        return await self._read(run)
