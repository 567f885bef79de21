"""Accounts and API tokens in the cluster store."""

from __future__ import annotations

from foretell.core.accounts import Account
from foretell.core.ids import webhook_secret
from foretell.core.times import utcnow
from foretell.store.postgres_calls import PostgresCalls, scalar
from foretell.store.postgres_pool import Conn
from foretell.store.protocol import TokenRecord

_ACCOUNT = "username, name, webhook_secret, type"
# the row inserted, or the one there already (a statement's snapshot can't see a row that
# a concurrent insert committed while this one waited on it: then the SELECT is run again)
_ENSURE_ACCOUNT = (
    "WITH made AS (INSERT INTO accounts (username, name, type, webhook_secret, created_at) "  # noqa: S608 — constant text
    f"VALUES (%(u)s, %(n)s, 'user', %(s)s, %(t)s) ON CONFLICT DO NOTHING RETURNING {_ACCOUNT}) "
    f"SELECT * FROM made UNION ALL SELECT {_ACCOUNT} FROM accounts WHERE username = %(u)s"
)


class PostgresAccounts(PostgresCalls):
    """The Store protocol's account and token methods."""

    async def ensure_account(self, username: str, name: str) -> Account:
        params = {"u": username, "n": name, "s": webhook_secret(), "t": utcnow()}

        async def run(conn: Conn) -> Account:
            found = await (await conn.execute(_ENSURE_ACCOUNT, params)).fetchone()
            if found is None:
                found = await (
                    await conn.execute(
                        f"SELECT {_ACCOUNT} FROM accounts WHERE username = %s",  # noqa: S608 — constant text
                        (username,),
                    )
                ).fetchone()
            assert found is not None  # inserted, or there: it can't be neither
            return Account(*found)

        return await self._run(run)

    async def add_token(self, username: str, token_hash: str, label: str = "") -> None:
        async def run(conn: Conn) -> None:
            await conn.execute(
                "INSERT INTO tokens (hash, account, label, created_at) VALUES (%s, %s, %s, %s)",
                (token_hash, username, label, utcnow()),
            )

        await self._run(run)

    async def account_for_token(self, token_hash: str) -> Account | None:
        async def run(conn: Conn) -> Account | None:
            cursor = await conn.execute(
                "SELECT a.username, a.name, a.webhook_secret, a.type FROM tokens t "
                "JOIN accounts a ON a.username = t.account WHERE t.hash = %s",
                (token_hash,),
            )
            found = await cursor.fetchone()
            return Account(*found) if found else None

        return await self._run(run)

    async def count_tokens(self) -> int:
        return await self._run(lambda conn: scalar(conn, "SELECT count(*) FROM tokens"))

    async def list_tokens(self) -> list[TokenRecord]:
        async def run(conn: Conn) -> list[TokenRecord]:
            cursor = await conn.execute(
                "SELECT hash, account, label, created_at FROM tokens ORDER BY created_at"
            )
            return [
                TokenRecord(h, a, lb, at.isoformat()) for h, a, lb, at in await cursor.fetchall()
            ]

        return await self._run(run)

    async def revoke_tokens(self, hash_prefix: str) -> list[str]:
        async def run(conn: Conn) -> list[str]:
            async with conn.transaction():
                cursor = await conn.execute(
                    "SELECT hash FROM tokens WHERE left(hash, %s) = %s FOR UPDATE",
                    (len(hash_prefix), hash_prefix),
                )
                matches = [h for (h,) in await cursor.fetchall()]
                if len(matches) == 1:
                    await conn.execute("DELETE FROM tokens WHERE hash = %s", (matches[0],))
            return matches

        return await self._run(run)
