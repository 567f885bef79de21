"""Scratch PostgreSQL for tests on 127.0.0.1:5432: fresh schemas or databases, dropped after.

A schema costs about 2 ms to make and drop, a database about 120 ms, and migrating either
about 200 ms (DDL is slow: each table is files to create and sync); all isolate fully (the
store's URL carries the schema as its search_path, so every connection, Alembic's included,
sees only it). Suites of many tests share one migrated schema and empty it before each
test. Nothing is skipped: a server that can't be reached fails the test."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Iterator

import psycopg

from foretell.store import migrations

#: the test server: user postgres, trust authentication
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
_BASE = "postgresql://postgres@127.0.0.1:5432"


def _name() -> str:
    return f"foretell_test_{secrets.token_hex(6)}"


@contextlib.asynccontextmanager
async def scratch_schema() -> AsyncIterator[str]:
    """The URL of an empty schema of its own (search_path), dropped with all in it after."""
    name = _name()
    async with await psycopg.AsyncConnection.connect(ADMIN_URL, autocommit=True) as admin:
        await admin.execute(f"CREATE SCHEMA {name}")
    try:
        yield f"{ADMIN_URL}?options=-csearch_path%3D{name}"
    finally:
        async with await psycopg.AsyncConnection.connect(ADMIN_URL, autocommit=True) as admin:
            await admin.execute(f"DROP SCHEMA {name} CASCADE")


@contextlib.asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """The URL of an empty database of its own, dropped after (its sessions ended first)."""
    name = _name()
    async with await psycopg.AsyncConnection.connect(ADMIN_URL, autocommit=True) as admin:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    try:
        yield f"{_BASE}/{name}"
    finally:
        async with await psycopg.AsyncConnection.connect(ADMIN_URL, autocommit=True) as admin:
            await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


#: every table of the store, emptied between the tests that share one migrated schema
TABLES = (
    "accounts", "tokens", "predictions", "files", "webhook_deliveries", "models", "shared_secrets",
    "deployments", "instances", "stored_models", "model_versions",
)  # fmt: skip


@contextlib.contextmanager
def migrated_schema() -> Iterator[str]:
    """A schema at the newest revision, made once for many tests (DDL costs ~200 ms here:
    each test empties it with `emptied` instead, in ~2 ms), dropped after."""
    name = _name()
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
    url = f"{ADMIN_URL}?options=-csearch_path%3D{name}"
    try:
        migrations.upgrade(url)
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {name} CASCADE")


def emptied(url: str) -> str:
    """`url`, its tables emptied: as fresh as a new database for the store's purposes."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("; ".join(f"DELETE FROM {table}" for table in TABLES))
    return url
