"""Every public error maps to an HTTP status, and the API renders each the same way."""

from __future__ import annotations

import asyncio
import importlib
import pathlib
import pkgutil
import sqlite3
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import foretell
from foretell.api.errors import HANDLERS, PROBLEM
from foretell.errors import ForetellError, InvalidCursor, InvalidField, InvalidRequest, StoreError
from foretell.store.sqlite import SQLiteStore
from tests.server import Server, fixture_model, start_server

#: not importable as part of the library: model code and `python -m` entry points
_SKIP = ("foretell.models", "foretell.__main__", "foretell.worker.__main__")


def _public_errors() -> list[type[ForetellError]]:
    """Every ForetellError subclass any foretell module defines (each module imported)."""
    for module in pkgutil.walk_packages(foretell.__path__, "foretell."):
        if not module.name.startswith(_SKIP):
            importlib.import_module(module.name)
    found: list[type[ForetellError]] = []
    pending = [ForetellError]
    while pending:
        for sub in pending.pop().__subclasses__():
            found.append(sub)
            pending.append(sub)
    return sorted((e for e in found if not e.__name__.startswith("_")), key=lambda e: e.__name__)


ERRORS = _public_errors()


def _instance(error: type[ForetellError]) -> ForetellError:
    if issubclass(error, InvalidRequest):
        return error([InvalidField("format", "input.x", "x is wrong")])
    return error("what went wrong, and what to do")


def test_the_hierarchy_is_complete() -> None:
    """The errors a client can meet are all found (a moved class can't slip out unseen)."""
    names = {e.__name__ for e in ERRORS}
    assert {"BadRequest", "InvalidCursor", "InvalidRequest", "NotFound", "StoreError"} <= names


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.__name__)
def test_every_error_has_an_http_status(error: type[ForetellError]) -> None:
    """Each error names a 4xx or 5xx status and a title of its own kind."""
    instance = _instance(error)
    assert 400 <= instance.status <= 599
    assert instance.title and instance.detail


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.__name__)
def test_every_error_renders_as_problem_details(error: type[ForetellError]) -> None:
    """Raised in a handler, each error becomes its status with a problem-details body."""

    async def fail(request: Request) -> Response:
        raise _instance(error)

    app = Starlette(routes=[Route("/", fail)], exception_handlers=HANDLERS)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/")

    response = asyncio.run(call())
    instance = _instance(error)
    assert response.status_code == instance.status
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert (body["status"], body["title"], body["detail"]) == (
        instance.status,
        instance.title,
        instance.detail,
    )
    if isinstance(instance, InvalidRequest):
        assert body["invalid_fields"] == [f.__dict__ for f in instance.fields]


def test_a_database_failure_is_a_store_error(tmp_path: pathlib.Path) -> None:
    """SQLite's own errors reach callers as StoreError (a 500 naming the database)."""
    path = tmp_path / "foretell.db"

    async def run() -> None:
        store = SQLiteStore(path)
        await store.open()
        try:
            with sqlite3.connect(path) as other:  # the database changes under the store
                other.execute("DROP TABLE tokens")
            with pytest.raises(StoreError, match="database error in .*no such table"):
                await store.count_tokens()
        finally:
            await store.close()

    asyncio.run(run())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`foretell serve` with the echo fixture."""
    tmp = tmp_path_factory.mktemp("server")
    server = start_server(tmp / "data", [f"acme/echo={fixture_model(tmp, 'echo')}"])
    yield server
    server.stop()


@pytest.mark.parametrize("path", ["/v1/predictions", "/v1/files"])
def test_a_cursor_we_did_not_hand_out_is_a_400(server: Server, path: str) -> None:
    """A made-up or altered list cursor gets a 400 saying so, not a 500."""
    with server.client() as client:
        response = client.get(path, params={"cursor": "garbage!"})
    assert response.status_code == InvalidCursor.status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "invalid cursor" in response.json()["detail"]
