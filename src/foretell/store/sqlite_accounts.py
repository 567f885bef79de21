"""Accounts and API tokens in the embedded store."""

from __future__ import annotations

import sqlite3

from foretell.core.accounts import Account
from foretell.core.ids import webhook_secret
from foretell.store.protocol import TokenRecord
from foretell.store.rows import now_text
from foretell.store.sqlite_calls import SQLiteCalls


class SQLiteAccounts(SQLiteCalls):
    """The Store protocol's account and token methods."""

    async def ensure_account(self, username: str, name: str) -> Account:
        def run(db: sqlite3.Connection) -> Account:
            db.execute(
                "INSERT OR IGNORE INTO accounts VALUES (?, ?, 'user', ?, ?)",
                (username, name, webhook_secret(), now_text()),
            )
            row = db.execute(
                "SELECT username, name, webhook_secret, type FROM accounts WHERE username = ?",
                (username,),
            ).fetchone()
            return Account(row[0], row[1], row[2], row[3])

        return await self._run(run)

    async def add_token(self, username: str, token_hash: str, label: str = "") -> None:
        await self._run(
            lambda db: db.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, ?)", (token_hash, username, label, now_text())
            )
        )

    async def account_for_token(self, token_hash: str) -> Account | None:
        def run(db: sqlite3.Connection) -> Account | None:
            row = db.execute(
                "SELECT a.username, a.name, a.webhook_secret, a.type FROM tokens t "
                "JOIN accounts a ON a.username = t.account WHERE t.hash = ?",
                (token_hash,),
            ).fetchone()
            return Account(row[0], row[1], row[2], row[3]) if row else None

        return await self._read(run)

    async def count_tokens(self) -> int:
        return await self._read(lambda db: db.execute("SELECT count(*) FROM tokens").fetchone()[0])

    async def list_tokens(self) -> list[TokenRecord]:
        query = "SELECT hash, account, label, created_at FROM tokens ORDER BY created_at"
        return await self._read(
            lambda db: [TokenRecord(*row) for row in db.execute(query).fetchall()]
        )

    async def revoke_tokens(self, hash_prefix: str) -> list[str]:
        def run(db: sqlite3.Connection) -> list[str]:
            rows = db.execute(
                "SELECT hash FROM tokens WHERE substr(hash, 1, ?) = ?",
                (len(hash_prefix), hash_prefix),
            ).fetchall()
            matches = [row[0] for row in rows]
            if len(matches) == 1:
                db.execute("DELETE FROM tokens WHERE hash = ?", (matches[0],))
            return matches

        return await self._run(run)
