"""orjson-rendered responses: the bytes clients got from Starlette's JSONResponse."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from starlette import responses

from foretell.api.responses import JSONResponse


@pytest.mark.parametrize(
    "content",
    [
        {"id": "abc", "status": "succeeded", "output": ["Hello ", "Ada"], "metrics": {"predict_time": 0.0123}},
        {"text": "naïve café — 日本語 🎉", "escapes": "quote \" backslash \\ newline \n tab \t \x01"},
        {"nested": [{"a": None, "b": True, "c": False}, [], {}], "big": 2**63 - 1, "neg": -(2**63)},
        {"bigger": 2**64, 3: "int key"},  # what orjson refuses: the stdlib renders it
        "plain string",
        None,
    ],
)  # fmt: skip
def test_the_bytes_match_starlettes(content: Any) -> None:
    """Same keys, order, separators and UTF-8 (no \\u escapes of non-ASCII) as Starlette."""
    assert JSONResponse(content).body == responses.JSONResponse(content).body


def test_floats_read_back_exactly() -> None:
    """Floats may be spelt differently (1e-7, not 1e-07) but read back as the same number."""
    floats = [1.5, 1e-7, 1e21, 0.1 + 0.2, -0.0, 5e-324, 1.7976931348623157e308]
    assert json.loads(bytes(JSONResponse(floats).body)) == floats


def test_nan_and_infinity_are_null_not_invalid_json() -> None:
    """NaN is not JSON: clients get null (Starlette would raise and answer 500)."""
    body = JSONResponse({"x": math.nan, "y": [math.inf, -math.inf]}).body
    assert body == b'{"x":null,"y":[null,null]}'


def test_headers_and_status_are_starlettes() -> None:
    """Content type and length are set as before; status and extra headers pass through."""
    response = JSONResponse({"detail": "é"}, status_code=201, headers={"Location": "/x"})
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len('{"detail":"é"}'.encode()))
    assert response.headers["location"] == "/x"
