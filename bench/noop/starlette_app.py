"""The bare Starlette baseline of bench/http_api.py: a JSON echo and a 100-event SSE."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

_ids = itertools.count()


async def echo(request: Request) -> Response:
    """What a server must at least do for a prediction: parse the body, answer JSON."""
    body = orjson.loads(await request.body())
    text = (body.get("input") or {}).get("text", "x")
    reply = {"id": f"p{next(_ids)}", "status": "succeeded", "output": text, "metrics": {}}
    return Response(orjson.dumps(reply), media_type="application/json")


async def sse(request: Request) -> Response:
    """n `output` events then `done`, framed like foretell's stream."""
    body = orjson.loads(await request.body())
    n = int((body.get("input") or {}).get("n", 100))

    async def events() -> AsyncIterator[bytes]:
        for i in range(n):
            yield f"event: output\nid: {i}\ndata: tok{i} \n\n".encode()
        yield f"event: done\nid: {n}\ndata: {{}}\n\n".encode()

    return StreamingResponse(events(), media_type="text/event-stream")


app = Starlette(
    routes=[Route("/predictions", echo, methods=["POST"]), Route("/sse", sse, methods=["POST"])]
)
