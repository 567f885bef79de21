"""The model registry in the embedded store: one row per model, upserted by its runner."""

from __future__ import annotations

import sqlite3

from foretell.core.models import ModelRecord
from foretell.store.registry_codec import dump_record, load_record


def upsert_model(db: sqlite3.Connection, record: ModelRecord) -> None:
    """Insert the model's record, or replace the one there (the last publisher wins)."""
    db.execute(
        "INSERT INTO models (full_name, node, updated_at, data) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (full_name) DO UPDATE SET "
        "node = excluded.node, updated_at = excluded.updated_at, data = excluded.data",
        (record.key, record.node, record.updated_at.isoformat(), dump_record(record)),
    )


def select_models(db: sqlite3.Connection) -> list[ModelRecord]:
    """Every record, by name."""
    rows = db.execute("SELECT data FROM models ORDER BY full_name").fetchall()
    return [load_record(row[0]) for row in rows]


def select_model(db: sqlite3.Connection, key: str) -> ModelRecord | None:
    """One model's record, or None."""
    row = db.execute("SELECT data FROM models WHERE full_name = ?", (key,)).fetchone()
    return load_record(row[0]) if row else None


def delete_model(db: sqlite3.Connection, key: str) -> bool:
    """Remove a model's record; False if there was none."""
    return db.execute("DELETE FROM models WHERE full_name = ?", (key,)).rowcount > 0
