"""Stored models and their versions in the embedded store: one row each, the document
beside the columns its queries need."""

from __future__ import annotations

import sqlite3

from foretell.core.versions import StoredModel, StoredVersion
from foretell.store.library_codec import (
    created_text,
    dump_stored,
    load_stored_model,
    load_version,
)
from foretell.store.sqlite_calls import SQLiteCalls

#: the tables (sqlite_schema.py runs this with the rest of the schema)
SCHEMA = """
CREATE TABLE IF NOT EXISTS stored_models (
    full_name TEXT PRIMARY KEY, owner TEXT NOT NULL, created_at TEXT NOT NULL,
    data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS model_versions (
    id TEXT PRIMARY KEY, model TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS model_versions_by_model
    ON model_versions (model, created_at DESC, id DESC);
"""


def insert_model(db: sqlite3.Connection, model: StoredModel) -> bool:
    """Insert; False, with nothing written, if `owner/name` exists."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO stored_models (full_name, owner, created_at, data) "
        "VALUES (?, ?, ?, ?)",
        (model.full_name, model.owner, created_text(model.created_at), dump_stored(model)),
    )
    return cursor.rowcount > 0


def select_model(db: sqlite3.Connection, full_name: str) -> StoredModel | None:
    """One model, or None."""
    row = db.execute("SELECT data FROM stored_models WHERE full_name = ?", (full_name,)).fetchone()
    return load_stored_model(row[0]) if row else None


def select_models(db: sqlite3.Connection) -> list[StoredModel]:
    """Every model, by `owner/name`."""
    rows = db.execute("SELECT data FROM stored_models ORDER BY full_name").fetchall()
    return [load_stored_model(row[0]) for row in rows]


def update_model(db: sqlite3.Connection, model: StoredModel) -> None:
    """Write a model's new fields (none if it is gone)."""
    db.execute(
        "UPDATE stored_models SET data = ? WHERE full_name = ?",
        (dump_stored(model), model.full_name),
    )


def delete_model(db: sqlite3.Connection, full_name: str) -> bool:
    """Delete a model and, in the same transaction, every version of it."""
    db.execute("DELETE FROM model_versions WHERE model = ?", (full_name,))
    return db.execute("DELETE FROM stored_models WHERE full_name = ?", (full_name,)).rowcount > 0


def insert_version(db: sqlite3.Connection, version: StoredVersion) -> bool:
    """Insert; False, with nothing written, if the id exists."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO model_versions (id, model, status, created_at, data) "
        "VALUES (?, ?, ?, ?, ?)",
        (
            version.id, version.model, version.status, created_text(version.created_at),
            dump_stored(version),
        ),
    )  # fmt: skip
    return cursor.rowcount > 0


def update_version(db: sqlite3.Connection, version: StoredVersion) -> None:
    """Write a version's new state (none if it is gone)."""
    db.execute(
        "UPDATE model_versions SET status = ?, data = ? WHERE id = ?",
        (version.status, dump_stored(version), version.id),
    )


def select_version(db: sqlite3.Connection, version_id: str) -> StoredVersion | None:
    """One version, or None."""
    row = db.execute("SELECT data FROM model_versions WHERE id = ?", (version_id,)).fetchone()
    return load_version(row[0]) if row else None


def select_versions(db: sqlite3.Connection, model: str | None) -> list[StoredVersion]:
    """A model's versions (every model's when None), newest first."""
    where, params = ("WHERE model = ?", (model,)) if model is not None else ("", ())
    rows = db.execute(
        f"SELECT data FROM model_versions {where} ORDER BY created_at DESC, id DESC",  # noqa: S608 — a fixed clause
        params,
    ).fetchall()
    return [load_version(row[0]) for row in rows]


def delete_version(db: sqlite3.Connection, version_id: str) -> bool:
    """Delete; False if there was none."""
    return db.execute("DELETE FROM model_versions WHERE id = ?", (version_id,)).rowcount > 0


class SQLiteLibrary(SQLiteCalls):
    """The Store protocol's stored-model and version methods."""

    async def create_stored_model(self, model: StoredModel) -> bool:
        return await self._run(lambda db: insert_model(db, model))

    async def get_stored_model(self, full_name: str) -> StoredModel | None:
        return await self._read(lambda db: select_model(db, full_name))

    async def list_stored_models(self) -> list[StoredModel]:
        return await self._read(select_models)

    async def save_stored_model(self, model: StoredModel) -> None:
        await self._run(lambda db: update_model(db, model))

    async def delete_stored_model(self, full_name: str) -> bool:
        return await self._run(lambda db: delete_model(db, full_name))

    async def add_version(self, version: StoredVersion) -> bool:
        return await self._run(lambda db: insert_version(db, version))

    async def save_version(self, version: StoredVersion) -> None:
        await self._run(lambda db: update_version(db, version))

    async def get_version(self, version_id: str) -> StoredVersion | None:
        return await self._read(lambda db: select_version(db, version_id))

    async def list_versions(self, model: str | None = None) -> list[StoredVersion]:
        return await self._read(lambda db: select_versions(db, model))

    async def delete_version(self, version_id: str) -> bool:
        return await self._run(lambda db: delete_version(db, version_id))
