"""The engines each contract suite runs against: add the cluster engines here (issue 11)."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from foretell.store import Store
from foretell.store.postgres import PostgresStore
from foretell.store.sqlite import SQLiteStore
from tests.store.postgres_db import emptied, migrated_schema

#: each engine, made (not opened) on an empty database
STORES: dict[str, Callable[[pytest.FixtureRequest, pathlib.Path], Store]] = {
    "sqlite": lambda _, tmp: SQLiteStore(tmp / "foretell.db"),
    "sqlite-thread": lambda _, tmp: SQLiteStore(tmp / "foretell.db", on_loop=False),
    # one migrated schema for the session, emptied before each test
    "postgresql": lambda request, _: PostgresStore(
        emptied(request.getfixturevalue("postgres_schema")), max_size=4
    ),
}


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """The URL of a schema at the newest revision, shared by the session's tests."""
    with migrated_schema() as url:
        yield url


@pytest.fixture(params=sorted(STORES))
async def store(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> AsyncIterator[Store]:
    """Each Store engine, opened on an empty database."""
    engine = STORES[request.param](request, tmp_path)
    await engine.open()
    yield engine
    await engine.close()
