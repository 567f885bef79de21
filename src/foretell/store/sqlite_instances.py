"""Instance places in the embedded store: a row per running instance, counted per model
against its limit by reserve_instance, renewed while it runs, expired when its holder dies."""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Collection

from foretell.core.times import utcnow
from foretell.store.sqlite_calls import SQLiteCalls


class SQLiteInstances(SQLiteCalls):
    """The Store protocol's instance-place methods."""

    async def reserve_instance(
        self, model: str, holder: str, limit: int, lease_until: datetime.datetime
    ) -> bool:
        now = utcnow().isoformat()

        def run(db: sqlite3.Connection) -> bool:
            db.execute("DELETE FROM instances WHERE model = ? AND expires_at <= ?", (model, now))
            (taken,) = db.execute(
                "SELECT count(*) FROM instances WHERE model = ? AND holder != ?", (model, holder)
            ).fetchone()
            if taken >= limit:
                return False
            db.execute(
                "INSERT OR REPLACE INTO instances (holder, model, expires_at) VALUES (?, ?, ?)",
                (holder, model, lease_until.isoformat()),
            )
            return True

        return await self._run(run)

    async def renew_instances(
        self, holders: Collection[str], lease_until: datetime.datetime
    ) -> None:
        until = lease_until.isoformat()
        await self._run(
            lambda db: db.executemany(
                "UPDATE instances SET expires_at = ? WHERE holder = ?",
                [(until, holder) for holder in holders],
            )
        )

    async def release_instance(self, holder: str) -> None:
        await self._run(lambda db: db.execute("DELETE FROM instances WHERE holder = ?", (holder,)))
