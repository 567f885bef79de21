"""The engines each contract suite runs against: add the cluster engines here (issue 11)."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator, Callable

import pytest

from foretell.store import Store
from foretell.store.sqlite import SQLiteStore

STORES: dict[str, Callable[[pathlib.Path], Store]] = {
    "sqlite": lambda tmp: SQLiteStore(tmp / "foretell.db"),
    "sqlite-thread": lambda tmp: SQLiteStore(tmp / "foretell.db", on_loop=False),
}


@pytest.fixture(params=sorted(STORES))
async def store(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> AsyncIterator[Store]:
    """Each Store engine, opened on an empty database."""
    engine = STORES[request.param](tmp_path)
    await engine.open()
    yield engine
    await engine.close()
