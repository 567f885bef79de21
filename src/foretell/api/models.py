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
from foretell.core.models import Model
from foretell.errors import BadRequest, NotFound


def _model(request: Request) -> Model:
    name = f"{request.path_params['owner']}/{request.path_params['name']}"
    model = api_state(request).model(name)
    if model is None:
        raise NotFound("The requested resource could not be found.")
    return model


def _render(request: Request, m: Model) -> dict[str, Any]:
    host = api_state(request).host
    return render.model(request, m, host.status(m.full_name) if host is not None else None)


async def list_models(request: Request) -> Response:
    """GET /v1/models — every hosted model."""
    await authenticate(request)
    limit = page_limit(request.query_params.get("limit"))
    models = sorted(api_state(request).models.values(), key=lambda m: m.full_name)[:limit]
    return JSONResponse(render.page(request, [_render(request, m) for m in models], None))


async def search_models(request: Request) -> Response:
    """QUERY /v1/models — body is the search text (JS sends it JSON-quoted)."""
    await authenticate(request)
    raw = (await read_body(request, 64 * 1024)).decode(errors="replace").strip()
    if raw.startswith('"'):
        try:
            raw = str(orjson.loads(raw))
        except orjson.JSONDecodeError:
            pass
    results = [_render(request, m) for m in _matching(api_state(request), raw)]
    return JSONResponse(render.page(request, results, None))


async def search(request: Request) -> Response:
    """GET /v1/search?query= — models matching the query, in the beta client's shape."""
    await authenticate(request)
    query = request.query_params.get("query")
    if not query:
        raise BadRequest('Query parameter "query" is required')
    limit = min(max(optional_count(request.query_params.get("limit"), "limit", default=20), 1), 50)
    models = _matching(api_state(request), query)[:limit]
    return JSONResponse(
        {
            "query": query,
            "models": [{"model": _render(request, m), "metadata": {}} for m in models],
            "collections": [],
            "pages": [],
        }
    )


def _matching(state: ApiState, query: str) -> list[Model]:
    words = query.lower().split()
    return [
        m
        for m in sorted(state.models.values(), key=lambda m: m.full_name)
        if all(w in f"{m.full_name} {m.description or ''}".lower() for w in words)
    ]


async def get_model(request: Request) -> Response:
    """GET /v1/models/{owner}/{name}."""
    await authenticate(request)
    return JSONResponse(_render(request, _model(request)))


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
    """GET /v1/hardware — what this server runs models on."""
    await authenticate(request)
    return JSONResponse([{"sku": "cpu", "name": "CPU"}])


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
