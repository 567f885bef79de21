"""foretell's own OpenAPI 3.1 document at /openapi.json describes every API route."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.core.result import Err
from starlette.routing import Route

from foretell.api import app as api_app
from foretell.api import openapi
from foretell.api.openapi import Operation, describe, document
from foretell.api.openapi import operations as table
from tests.server import Server


@pytest.fixture(scope="module")
def served(server: Server) -> dict[str, Any]:
    """The document as the running server serves it, without a token."""
    response = httpx.get(f"{server.url}/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def _template(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)  # Starlette's {path:path} is {path}


def test_document_is_openapi_3_1_that_schemathesis_loads(served: dict[str, Any]) -> None:
    """The served document is OpenAPI 3.1 and loads as a schema (every $ref resolves)."""
    assert served["openapi"] == "3.1.0"
    assert served["info"]["title"] == "foretell"
    loaded = list(schemathesis.openapi.from_dict(served).get_all_operations())
    assert [op.err() for op in loaded if isinstance(op, Err)] == []
    assert len(loaded) == sum(len(item) for item in served["paths"].values())


def test_every_api_route_is_described_with_and_without_v1(served: dict[str, Any]) -> None:
    """Each route of the API app appears under /v1 and without it, for each of its methods."""
    for route in api_app._routes():
        assert isinstance(route, Route)
        path = _template(route.path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            for spelling in ("/v1" + path, path):
                if method == "QUERY":  # OpenAPI 3.1 has no QUERY: described on GET /models
                    assert "x-foretell-query" in served["paths"][spelling]["get"]
                    continue
                assert method.lower() in served["paths"].get(spelling, {}), (method, spelling)


def test_operations_list_parameters_bodies_and_error_bodies(served: dict[str, Any]) -> None:
    """Every operation has an id, its path parameters, and problem bodies for its errors;
    token-protected ones list 401 and the bearer scheme."""
    ids = set()
    for path, item in served["paths"].items():
        for method, op in item.items():
            ids.add(op["operationId"])
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"\{(\w+)\}", path)), (method, path)
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    assert "application/problem+json" in response["content"], (status, path)
            if op["security"]:
                assert "401" in op["responses"]
    assert len(ids) == sum(len(item) for item in served["paths"].values())
    create = served["paths"]["/v1/predictions"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PredictionRequest"
    }
    assert {"Prefer", "Cancel-After"} <= {p["name"] for p in create["parameters"]}
    assert "invalid_fields" in served["components"]["schemas"]["Problem"]["properties"]


@pytest.fixture
def extra_route() -> Iterator[Operation]:
    """A route described from outside the table, removed again afterwards."""
    operation = Operation(
        "get", "/things", "things.list", "List things", {200: table.json("Account")}
    )
    describe(operation)
    yield operation
    openapi._EXTRA.remove(operation)
    document.cache_clear()


def test_other_parts_can_describe_their_routes(extra_route: Operation) -> None:
    """describe() adds a route to the document, at both spellings, with its 401."""
    paths = document()["paths"]
    assert paths["/v1/things"]["get"]["operationId"] == "things.list"
    assert "401" in paths["/things"]["get"]["responses"]
