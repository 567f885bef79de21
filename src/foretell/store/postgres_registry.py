"""The model registry in the cluster store: one row per model, upserted by its runner."""

from __future__ import annotations

from foretell.core.models import ModelRecord
from foretell.store.postgres_pool import Conn
from foretell.store.registry_codec import dump_record, load_record


async def upsert_model(conn: Conn, record: ModelRecord) -> None:
    """Insert the model's record, or replace the one there (the last publisher wins)."""
    await conn.execute(
        "INSERT INTO models (full_name, node, updated_at, data) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (full_name) DO UPDATE SET "
        "node = excluded.node, updated_at = excluded.updated_at, data = excluded.data",
        (record.key, record.node, record.updated_at, dump_record(record)),
    )


async def select_models(conn: Conn) -> list[ModelRecord]:
    """Every record, by name."""
    cursor = await conn.execute("SELECT data FROM models ORDER BY full_name")
    return [load_record(data) for (data,) in await cursor.fetchall()]


async def select_model(conn: Conn, key: str) -> ModelRecord | None:
    """One model's record, or None."""
    cursor = await conn.execute("SELECT data FROM models WHERE full_name = %s", (key,))
    found = await cursor.fetchone()
    return load_record(found[0]) if found else None


async def delete_model(conn: Conn, key: str) -> bool:
    """Remove a model's record; False if there was none."""
    cursor = await conn.execute("DELETE FROM models WHERE full_name = %s", (key,))
    return cursor.rowcount > 0
