"""schemathesis against foretell's own /openapi.json: no 5xx, and every response is what
the document says (status, content type, body schema). Bounded: a fixed number of examples
per operation, derandomized."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from foretell.api.openapi import document
from tests.server import Server, fixture_model, start_server

EXAMPLES_PER_OPERATION = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`foretell serve` with the echo and path_output fixtures."""
    tmp: pathlib.Path = tmp_path_factory.mktemp("fuzz")
    models = [f"acme/{n}={fixture_model(tmp, n)}" for n in ("echo", "path_output")]
    server = start_server(tmp / "data", models)
    yield server
    server.stop()


#: path parameters narrowed to what the server hosts, so valid requests reach real models
#: (invalid ones still try every other name)
HOSTED = {"owner": ["acme"], "name": ["echo", "path_output"]}


@pytest.fixture(scope="module")
def api_schema(fuzz_server: Server) -> Any:
    """The document as the running server serves it, its model names narrowed to HOSTED."""
    raw = httpx.get(f"{fuzz_server.url}/openapi.json").json()
    for item in raw["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in HOSTED:
                    parameter["schema"] = {"type": "string", "enum": HOSTED[parameter["name"]]}
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.hook(map_body)
    return loaded


def map_body(context: Any, body: Any) -> Any:
    """No webhooks: a generated public URL would be called, and tests stay on this machine."""
    if isinstance(body, dict):
        for key in ("webhook", "webhook_completed"):
            body.pop(key, None)
    return body


def _operations() -> list[Any]:
    """(mode, method, path) for every operation the document describes (read without a
    server). Invalid requests go to the /v1 spellings and only where there is something to
    get wrong; the unprefixed twins run the same handlers, so valid requests suffice there."""
    cases = []
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            cases.append(pytest.param(GenerationMode.POSITIVE, method.upper(), path))
            if path.startswith("/v1/") and (
                operation.get("parameters") or "requestBody" in operation
            ):
                cases.append(pytest.param(GenerationMode.NEGATIVE, method.upper(), path))
    return cases


@pytest.mark.parametrize(("mode", "method", "path"), _operations())
def test_api_matches_its_document(
    api_schema: Any, fuzz_server: Server, mode: GenerationMode, method: str, path: str
) -> None:
    """Generated requests (valid and invalid) to each operation get no 5xx and only
    responses the document describes."""
    operation = api_schema[path][method]
    headers = {"Authorization": f"Bearer {fuzz_server.token}"}
    failures: list[str] = []

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        try:
            case.call_and_validate(
                base_url=fuzz_server.url, headers=headers, checks=CHECKS, timeout=70
            )
        except Exception as exc:  # collected, and reported together below
            failures.append(f"{case.as_curl_command()}\n{exc}")

    run()
    assert not failures, "\n\n".join(failures[:3])
