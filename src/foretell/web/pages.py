"""The playground's pages and the markdown docs, over the same models the API serves.

Pages hold only what every caller may see (models, schemas, READMEs); account data — the
predictions — is fetched by the page's script from the real /v1 API with the caller's token.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from foretell.api import render
from foretell.api.auth import authenticate
from foretell.api.models import setup_view
from foretell.api.state import ApiState, api_state
from foretell.core.models import Model
from foretell.errors import NotFound
from foretell.web.fields import example_input, input_fields, output_kind
from foretell.web.markdown import model_markdown, models_markdown, server_guide
from foretell.web.negotiate import markdown_response, wants_markdown
from foretell.web.predictions import history_markdown, load_prediction, prediction_markdown
from foretell.web.readme import inline, render_readme
from foretell.web.snippets import MARKER, snippets

HERE = pathlib.Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["json"] = lambda v: json.dumps(v, ensure_ascii=False)
templates.env.filters["inline"] = inline


def _models(state: ApiState) -> list[Model]:
    # pages are for anyone: a private stored model never shows on them
    return [record.model for record in state.catalog.public()]


async def _setup(state: ApiState, m: Model) -> dict[str, Any]:
    record = state.catalog.get(m.full_name)
    return await setup_view(state, record) if record is not None else {"status": "unknown"}


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    state = api_state(request)
    base = {"no_auth": state.settings.no_auth, "base": render.base_url(request)}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


async def index(request: Request) -> Response:
    """GET / — the hosted models, searchable."""
    state = api_state(request)
    base = render.base_url(request)
    if wants_markdown(request):
        head = f"# Models on {base}\n\nHow to use the API: {base}/llms.txt\n\n"
        return markdown_response(head + models_markdown(base, _models(state)))
    query = request.query_params.get("q", "")
    words = query.lower().split()
    rows = [
        (m, await _setup(state, m))
        for m in _models(state)
        if all(w in f"{m.full_name} {m.description or ''}".lower() for w in words)
    ]
    return _page(request, "index.html", {"rows": rows, "query": query})


def _model(request: Request) -> Model:
    name = f"{request.path_params['owner']}/{request.path_params['name']}"
    state = api_state(request)
    model = state.model(name) if state.catalog.is_public(name) else None
    if model is None:
        raise NotFound(f"There is no model {name} on this server.")
    return model


async def model_page(request: Request) -> Response:
    """GET /{owner}/{name} — the model's form, snippets and README (markdown on request)."""
    state = api_state(request)
    try:
        model = _model(request)
    except NotFound as exc:
        if "text/html" not in request.headers.get("accept", ""):
            raise  # API clients get the API's JSON 404
        return _page(request, "not_found.html", {"detail": exc.detail}, status=404)
    base = render.base_url(request)
    auth = not state.settings.no_auth
    if wants_markdown(request):
        return markdown_response(model_markdown(base, model, auth))
    fields = input_fields(model.openapi_schema)
    kind = output_kind(model.openapi_schema)
    example = example_input(fields, model.default_example)
    code = snippets(base, model.full_name, kind == "stream", auth)
    context = {
        "model": model,
        "setup": await _setup(state, model),
        "fields": fields,
        "output_kind": kind,
        "example": example,
        # the form starts as the default example (as on Replicate), never with placeholders
        "initial": dict((model.default_example or {}).get("input") or {}),
        "snippets": [(s, s.fill(example)) for s in code],
        "marker": MARKER,
        "readme": render_readme(model.readme, shift=2) if model.readme else None,
    }
    return _page(request, "model.html", context)


async def model_llms(request: Request) -> Response:
    """GET /{owner}/{name}/llms.txt — the model's guide for agents."""
    state = api_state(request)
    model = _model(request)
    return markdown_response(
        model_markdown(render.base_url(request), model, not state.settings.no_auth)
    )


async def server_llms(request: Request) -> Response:
    """GET /llms.txt — this server's API guide, with its real base URL."""
    state = api_state(request)
    guide = server_guide(
        render.base_url(request), _models(state), not state.settings.no_auth, state.signer.ttl_s
    )
    return markdown_response(guide)


async def prediction_page(request: Request) -> Response:
    """GET /p/{id} (urls.web) — a page whose script loads the prediction with your token;
    as markdown, the prediction itself (the token then goes in the Authorization header)."""
    if wants_markdown(request):
        state = api_state(request)
        account = await authenticate(request)
        current = await load_prediction(state, account.username, request.path_params["id"])
        body = render.prediction(render.base_url(request), state, current)
        model = state.model(current.model)
        stream = model is not None and output_kind(model.openapi_schema) == "stream"
        return markdown_response(prediction_markdown(body, stream))
    return _page(request, "prediction.html", {"prediction_id": request.path_params["id"]})


async def history_page(request: Request) -> Response:
    """GET /p — your predictions, newest first (loaded by the page's script); as markdown,
    the newest 100 of the token's account."""
    if wants_markdown(request):
        state = api_state(request)
        account = await authenticate(request)
        page = await state.store.list_predictions(account.username, limit=100)
        base = render.base_url(request)
        return markdown_response(history_markdown(base, page.items))
    return _page(request, "history.html", {})
