"""Stored models and their versions in the cluster store: one row each, the document beside
the columns its queries need (migration 0005)."""

from __future__ import annotations

from foretell.core.versions import StoredModel, StoredVersion
from foretell.store.library_codec import dump_stored, load_stored_model, load_version
from foretell.store.postgres_calls import PostgresCalls
from foretell.store.postgres_pool import Conn


async def insert_model(conn: Conn, model: StoredModel) -> bool:
    """Insert; False, with nothing written, if `owner/name` exists."""
    cursor = await conn.execute(
        "INSERT INTO stored_models (full_name, owner, created_at, data) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (full_name) DO NOTHING",
        (model.full_name, model.owner, model.created_at, dump_stored(model)),
    )
    return cursor.rowcount > 0


async def select_model(conn: Conn, full_name: str) -> StoredModel | None:
    """One model, or None."""
    cursor = await conn.execute("SELECT data FROM stored_models WHERE full_name = %s", (full_name,))
    found = await cursor.fetchone()
    return load_stored_model(found[0]) if found else None


async def select_models(conn: Conn) -> list[StoredModel]:
    """Every model, by `owner/name`."""
    cursor = await conn.execute("SELECT data FROM stored_models ORDER BY full_name")
    return [load_stored_model(data) for (data,) in await cursor.fetchall()]


async def update_model(conn: Conn, model: StoredModel) -> None:
    """Write a model's new fields (none if it is gone)."""
    await conn.execute(
        "UPDATE stored_models SET data = %s WHERE full_name = %s",
        (dump_stored(model), model.full_name),
    )


async def delete_model(conn: Conn, full_name: str) -> bool:
    """Delete a model and, in the same transaction, every version of it."""
    async with conn.transaction():
        await conn.execute("DELETE FROM model_versions WHERE model = %s", (full_name,))
        cursor = await conn.execute("DELETE FROM stored_models WHERE full_name = %s", (full_name,))
        return cursor.rowcount > 0


async def insert_version(conn: Conn, version: StoredVersion) -> bool:
    """Insert; False, with nothing written, if the id exists."""
    cursor = await conn.execute(
        "INSERT INTO model_versions (id, model, status, created_at, data)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
        (version.id, version.model, version.status, version.created_at, dump_stored(version)),
    )
    return cursor.rowcount > 0


async def update_version(conn: Conn, version: StoredVersion) -> None:
    """Write a version's new state (none if it is gone)."""
    await conn.execute(
        "UPDATE model_versions SET status = %s, data = %s WHERE id = %s",
        (version.status, dump_stored(version), version.id),
    )


async def select_version(conn: Conn, version_id: str) -> StoredVersion | None:
    """One version, or None."""
    cursor = await conn.execute("SELECT data FROM model_versions WHERE id = %s", (version_id,))
    found = await cursor.fetchone()
    return load_version(found[0]) if found else None


async def select_versions(conn: Conn, model: str | None) -> list[StoredVersion]:
    """A model's versions (every model's when None), newest first."""
    cursor = await conn.execute(
        "SELECT data FROM model_versions WHERE %(model)s::text IS NULL OR model = %(model)s"
        " ORDER BY created_at DESC, id DESC",
        {"model": model},
    )
    return [load_version(data) for (data,) in await cursor.fetchall()]


async def delete_version(conn: Conn, version_id: str) -> bool:
    """Delete; False if there was none."""
    cursor = await conn.execute("DELETE FROM model_versions WHERE id = %s", (version_id,))
    return cursor.rowcount > 0


class PostgresLibrary(PostgresCalls):
    """The Store protocol's stored-model and version methods."""

    async def create_stored_model(self, model: StoredModel) -> bool:
        return await self._run(lambda conn: insert_model(conn, model))

    async def get_stored_model(self, full_name: str) -> StoredModel | None:
        return await self._run(lambda conn: select_model(conn, full_name))

    async def list_stored_models(self) -> list[StoredModel]:
        return await self._run(select_models)

    async def save_stored_model(self, model: StoredModel) -> None:
        await self._run(lambda conn: update_model(conn, model))

    async def delete_stored_model(self, full_name: str) -> bool:
        return await self._run(lambda conn: delete_model(conn, full_name))

    async def add_version(self, version: StoredVersion) -> bool:
        return await self._run(lambda conn: insert_version(conn, version))

    async def save_version(self, version: StoredVersion) -> None:
        await self._run(lambda conn: update_version(conn, version))

    async def get_version(self, version_id: str) -> StoredVersion | None:
        return await self._run(lambda conn: select_version(conn, version_id))

    async def list_versions(self, model: str | None = None) -> list[StoredVersion]:
        return await self._run(lambda conn: select_versions(conn, model))

    async def delete_version(self, version_id: str) -> bool:
        return await self._run(lambda conn: delete_version(conn, version_id))
