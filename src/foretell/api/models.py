"""Models, versions, search, collections, hardware, account and the webhook secret."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from foretell.api import render
from foretell.api.auth import authenticate
from foretell.api.body import read_body
from foretell.api.params import optional_count, page_limit
from foretell.api.responses import JSONResponse
from foretell.api.state import ApiState, api_state
from foretell.core.models import Model, ModelRecord
from foretell.core.times import timestamp
from foretell.errors import BadRequest, NotFound


def _record(request: Request) -> ModelRecord:
    name = f"{request.path_params['owner']}/{request.path_params['name']}"
    record = api_state(request).catalog.get(name)
    if record is None:
        raise NotFound("The requested resource could not be found.")
    return record


def _model(request: Request) -> Model:
    return _record(request).model


async def setup_view(state: ApiState, record: ModelRecord) -> dict[str, Any]:
    """A model's `setup` field (foretell's own): how far it has come on its runner, as the
    runner published it, and how many predictions wait in the queue for it."""
    setup = record.setup
    return {
        "status": setup.status,
        "error": setup.error,
        "started_at": timestamp(setup.started_at),
        "ready_at": timestamp(setup.ready_at),
        "waiting_predictions": await state.queue.depth(record.model.runner_name),
        "progress": setup.progress,
    }


async def _render(request: Request, record: ModelRecord) -> dict[str, Any]:
    setup = await setup_view(api_state(request), record)
    return render.model(request, record.model, setup)


async def list_models(request: Request) -> Response:
    """GET /v1/models — every hosted model."""
    await authenticate(request)
    limit = page_limit(request.query_params.get("limit"))
    records = api_state(request).catalog.all()[:limit]
    return JSONResponse(render.page(request, [await _render(request, r) for r in records], None))


async def search_models(request: Request) -> Response:
    """QUERY /v1/models — body is the search text (JS sends it JSON-quoted)."""
    await authenticate(request)
    raw = (await read_body(request, 64 * 1024)).decode(errors="replace").strip()
    if raw.startswith('"'):
        try:
            raw = str(orjson.loads(raw))
        except orjson.JSONDecodeError:
            pass
    results = [await _render(request, r) for r in _matching(api_state(request), raw)]
    return JSONResponse(render.page(request, results, None))


async def search(request: Request) -> Response:
    """GET /v1/search?query= — models matching the query, in the beta client's shape."""
    await authenticate(request)
    query = request.query_params.get("query")
    if not query:
        raise BadRequest('Query parameter "query" is required')
    limit = min(max(optional_count(request.query_params.get("limit"), "limit", default=20), 1), 50)
    records = _matching(api_state(request), query)[:limit]
    return JSONResponse(
        {
            "query": query,
            "models": [{"model": await _render(request, r), "metadata": {}} for r in records],
            "collections": [],
            "pages": [],
        }
    )


def _matching(state: ApiState, query: str) -> list[ModelRecord]:
    words = query.lower().split()
    return [
        r
        for r in state.catalog.all()
        if all(w in f"{r.full_name} {r.model.description or ''}".lower() for w in words)
    ]


async def get_model(request: Request) -> Response:
    """GET /v1/models/{owner}/{name}."""
    await authenticate(request)
    return JSONResponse(await _render(request, _record(request)))


async def get_readme(request: Request) -> Response:
    """GET /v1/models/{owner}/{name}/readme — the model's README.md (Markdown, text/plain)."""
    await authenticate(request)
    model = _model(request)
    if model.readme is None:
        raise NotFound(f"The model {model.full_name} has no README.")
    return PlainTextResponse(model.readme)


async def list_examples(request: Request) -> Response:
    """GET /v1/models/{owner}/{name}/examples — its example predictions (the default one)."""
    await authenticate(request)
    model = _model(request)
    examples = [model.default_example] if model.default_example is not None else []
    return JSONResponse(render.page(request, examples, None))


async def list_versions(request: Request) -> Response:
    """GET /v1/models/{owner}/{name}/versions — the current version."""
    await authenticate(request)
    return JSONResponse(render.page(request, [render.version(_model(request))], None))


async def get_version(request: Request) -> Response:
    """GET /v1/models/{owner}/{name}/versions/{version}."""
    await authenticate(request)
    model = _model(request)
    if request.path_params["version"] != model.version:
        raise NotFound("The requested resource could not be found.")
    return JSONResponse(render.version(model))


async def list_collections(request: Request) -> Response:
    """GET /v1/collections — none yet."""
    await authenticate(request)
    return JSONResponse(render.page(request, [], None))


async def hardware(request: Request) -> Response:
    """GET /v1/hardware — what the cluster runs models on: the CPU, and each kind of GPU
    the runners hosting models have (as they published it in the registry)."""
    await authenticate(request)
    return JSONResponse(render.hardware(api_state(request).catalog.all()))


async def account(request: Request) -> Response:
    """GET /v1/account."""
    who = await authenticate(request)
    return JSONResponse(
        {
            "type": who.type,
            "username": who.username,
            "name": who.name,
            "github_url": None,
            "avatar_url": None,
        }
    )


async def webhook_secret(request: Request) -> Response:
    """GET /v1/webhooks/default/secret — the account's signing key."""
    who = await authenticate(request)
    return JSONResponse({"key": who.webhook_secret})
