"""Instances across the cluster, and the secrets every node shares, in the cluster store."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Collection

from foretell.store.postgres_calls import PostgresCalls, scalar_of
from foretell.store.postgres_pool import Conn


class PostgresInstances(PostgresCalls):
    """The Store protocol's instance-place methods and `shared_secret`."""

    async def reserve_instance(
        self, model: str, holder: str, limit: int, lease_until: datetime.datetime
    ) -> bool:
        async def run(conn: Conn) -> bool:
            # the model's places are counted under a lock on the model (each statement after
            # it sees what others committed first), so two workers can't take the last one
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (model,))
                await conn.execute(
                    "DELETE FROM instances WHERE model = %s AND expires_at <= now()", (model,)
                )
                taken = await scalar_of(
                    conn, "SELECT count(*) FROM instances WHERE model = %s AND holder <> %s",
                    model, holder,
                )  # fmt: skip
                if taken >= limit:
                    return False
                await conn.execute(
                    "INSERT INTO instances (holder, model, expires_at) VALUES (%s, %s, %s)"
                    " ON CONFLICT (holder) DO UPDATE SET expires_at = excluded.expires_at",
                    (holder, model, lease_until),
                )
                return True

        return await self._run(run)

    async def renew_instances(
        self, holders: Collection[str], lease_until: datetime.datetime
    ) -> None:
        async def run(conn: Conn) -> None:
            await conn.execute(
                "UPDATE instances SET expires_at = %s WHERE holder = ANY (%s::text[])",
                (lease_until, list(holders)),
            )

        await self._run(run)

    async def release_instance(self, holder: str) -> None:
        async def run(conn: Conn) -> None:
            await conn.execute("DELETE FROM instances WHERE holder = %s", (holder,))

        await self._run(run)

    async def shared_secret(self, name: str) -> bytes:
        async def run(conn: Conn) -> bytes:
            await conn.execute(
                "INSERT INTO shared_secrets (name, value) VALUES (%s, %s)"
                " ON CONFLICT (name) DO NOTHING",
                (name, secrets.token_bytes(32)),
            )
            value = await scalar_of(conn, "SELECT value FROM shared_secrets WHERE name = %s", name)
            return bytes(value)

        return await self._run(run)
