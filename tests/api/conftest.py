"""A server hosting the fixture predictors, shared by the API tests of a module; and the
predictions service on a real SQLite store with the in-process queue and bus, for the
service's own tests."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator, Iterator

import pytest

from foretell.api.service import PredictionService
from foretell.queue.memory import MemoryQueue
from foretell.store.sqlite import SQLiteStore
from foretell.streaming.memory import MemoryBus
from tests.server import Server, fixture_model, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`foretell serve` with echo, sleep, path output, secret and streaming fixtures."""
    tmp = tmp_path_factory.mktemp("server")
    models = [
        f"acme/{name}={fixture_model(tmp, name)}"
        for name in ("echo", "sleep", "path_output", "secret_input", "stream_tokens", "path_input")
    ]
    server = start_server(tmp / "data", models)
    yield server
    server.stop()


@pytest.fixture
def data_dir(server: Server) -> pathlib.Path:
    return server.data_dir


@pytest.fixture
async def service(tmp_path: pathlib.Path) -> AsyncIterator[PredictionService]:
    """A PredictionService over a fresh SQLite file, MemoryQueue and MemoryBus."""
    store = SQLiteStore(tmp_path / "foretell.db")
    await store.open()
    yield PredictionService(store, MemoryQueue(), MemoryBus())
    await store.close()
