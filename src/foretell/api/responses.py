"""JSON responses rendered by orjson: the same bytes as Starlette's, several times faster."""

from __future__ import annotations

from typing import Any

import orjson
from starlette import responses


class JSONResponse(responses.JSONResponse):
    """Compact UTF-8 JSON, like Starlette's; NaN and ±Infinity become `null` (as in webhook
    bodies) where Starlette would fail the response."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except orjson.JSONEncodeError:  # non-str keys, ints past 64 bits: the stdlib handles them
            return super().render(content)
