"""Models, versions, search, hardware, account and the webhook secret."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from foretell.api import library_views, render
from foretell.api.auth import authenticate
from foretell.api.body import read_body
from foretell.api.params import optional_count, page_limit
from foretell.api.responses import JSONResponse
from foretell.api.state import ApiState, api_state
from foretell.core.accounts import Account
from foretell.core.models import Model, ModelRecord
from foretell.core.times import timestamp
from foretell.errors import BadRequest, NotFound


def _record(request: Request) -> ModelRecord:
    name = f"{request.path_params['owner']}/{request.path_params['name']}"
    record = library_views.command_line(api_state(request), name)  # stored ones: library_views
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
    who = await authenticate(request)
    limit = page_limit(request.query_params.get("limit"))
    records = api_state(request).catalog.all()
    shown = await library_views.models_for(request, who, records, lambda r: _render(request, r))
    return JSONResponse(render.page(request, shown[:limit], None))


async def search_models(request: Request) -> Response:
    """QUERY /v1/models — body is the search text (JS sends it JSON-quoted)."""
    who = await authenticate(request)
    raw = (await read_body(request, 64 * 1024)).decode(errors="replace").strip()
    if raw.startswith('"'):
        try:
            raw = str(orjson.loads(raw))
        except orjson.JSONDecodeError:
            pass
    return JSONResponse(render.page(request, await _search(request, who, raw), None))


async def search(request: Request) -> Response:
    """GET /v1/search?query= — the models and collections matching the query, in the beta
    client's shape."""
    from foretell.api.collections import search_collections  # it imports this module

    who = await authenticate(request)
    query = request.query_params.get("query")
    if not query:
        raise BadRequest('Query parameter "query" is required')
    limit = min(max(optional_count(request.query_params.get("limit"), "limit", default=20), 1), 50)
    found = (await _search(request, who, query))[:limit]
    return JSONResponse(
        {
            "query": query,
            "models": [{"model": model, "metadata": {}} for model in found],
            "collections": await search_collections(request, who, query),
            "pages": [],
        }
    )


def _matches(query: str) -> Callable[[str, str | None], bool]:
    words = query.lower().split()
    return lambda name, description: all(w in f"{name} {description or ''}".lower() for w in words)


async def _search(request: Request, who: Account, query: str) -> list[dict[str, Any]]:
    """The models matching `query` that the caller may see, by name."""
    matches = _matches(query)
    records = [
        r for r in api_state(request).catalog.all() if matches(r.full_name, r.model.description)
    ]
    return await library_views.models_for(
        request, who, records, lambda r: _render(request, r), matches
    )


async def get_model(request: Request) -> Response:
    """GET /v1/models/{owner}/{name}."""
    who = await authenticate(request)
    stored = await library_views.find_stored(request, who)
    if stored is not None:
        return JSONResponse(await library_views.stored_view(request, stored))
    return JSONResponse(await _render(request, _record(request)))


async def get_readme(request: Request) -> Response:
    """GET /v1/models/{owner}/{name}/readme — the model's README.md (Markdown, text/plain)."""
    who = await authenticate(request)
    stored = await library_views.find_stored(request, who)
    if stored is not None:
        if stored.readme is None:
            raise NotFound(f"The model {stored.full_name} has no README.")
        return PlainTextResponse(stored.readme)
    model = _model(request)
    if model.readme is None:
        raise NotFound(f"The model {model.full_name} has no README.")
    return PlainTextResponse(model.readme)


async def list_examples(request: Request) -> Response:
    """GET /v1/models/{owner}/{name}/examples — its example predictions (the default one)."""
    who = await authenticate(request)
    if await library_views.find_stored(request, who) is not None:
        return JSONResponse(render.page(request, [], None))
    model = _model(request)
    examples = [model.default_example] if model.default_example is not None else []
    return JSONResponse(render.page(request, examples, None))


async def list_versions(request: Request) -> Response:
    """GET /v1/models/{owner}/{name}/versions — the current version."""
    who = await authenticate(request)
    stored = await library_views.find_stored(request, who)
    if stored is not None:
        ready = await library_views.ready_versions(api_state(request), stored.full_name)
        results = [library_views.render_version(v) for v in ready]
        return JSONResponse(render.page(request, results, None))
    return JSONResponse(render.page(request, [render.version(_model(request))], None))


async def get_version(request: Request) -> Response:
    """GET /v1/models/{owner}/{name}/versions/{version}."""
    who = await authenticate(request)
    stored = await library_views.find_stored(request, who)
    if stored is not None:
        state = api_state(request)
        found = await library_views.ready_version(state, stored, request.path_params["version"])
        return JSONResponse(library_views.render_version(found))
    model = _model(request)
    if request.path_params["version"] != model.version:
        raise NotFound("The requested resource could not be found.")
    return JSONResponse(render.version(model))


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
