"""Collections (Replicate's /v1/collections): the configured ones, each with the models of
its list that this server knows, and the collections GET /v1/search finds.

A collection lists models by `owner/name`; the ones this server neither hosts nor stores
(or that the caller may not see: another account's private model) are left out of its
`models`, so every entry renders as GET /v1/models renders it. The configuration is read
once, when the server starts (foretell serve --collections).
"""

from __future__ import annotations

import pathlib
import tomllib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from foretell.api import library_views, render
from foretell.api.auth import authenticate
from foretell.api.models import setup_view
from foretell.api.openapi import Operation, add_schemas, describe
from foretell.api.openapi.operations import BAD, INVALID, NOT_FOUND, json, path_param, query_param
from foretell.api.openapi.schemas import Schema, nullable, page, ref
from foretell.api.params import page_limit
from foretell.api.responses import JSONResponse
from foretell.api.state import api_state
from foretell.core.accounts import Account
from foretell.core.collections import Collection, CollectionsError, parse_collections
from foretell.core.models import ModelRecord
from foretell.errors import InvalidCursor, NotFound

#: the collections file `foretell serve` reads from its data dir unless told another
DEFAULT_FILES = ("collections.yaml", "collections.toml")


def load_collections(path: pathlib.Path) -> list[Collection]:
    """A collections file (.yaml, .yml or .toml) as Collection records; CollectionsError
    naming the file if it can't be read or holds a wrong entry."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CollectionsError(f"{path}: can't read it ({exc})") from exc
    try:
        return parse_collections(_decode(path, text))
    except CollectionsError as exc:
        raise CollectionsError(f"{path}: {exc}") from None


def _decode(path: pathlib.Path, text: str) -> object:
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CollectionsError(f"not valid TOML: {exc}") from None
    if suffix in (".yaml", ".yml"):
        import yaml  # the server's dependency; loaded only when there is a file to read

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CollectionsError(f"not valid YAML: {exc}") from None
    raise CollectionsError("name a .yaml, .yml or .toml file")


def _configured(request: Request) -> tuple[Collection, ...]:
    return api_state(request).settings.collections


def _summary(collection: Collection) -> dict[str, Any]:
    return {
        "name": collection.name,
        "slug": collection.slug,
        "description": collection.description,
    }


async def list_collections(request: Request) -> Response:
    """GET /v1/collections — every collection (name, slug, description), in the configured
    order, a page at a time."""
    await authenticate(request)
    limit = page_limit(request.query_params.get("limit"))
    offset = _offset(request.query_params.get("cursor"))
    collections = _configured(request)
    page = [_summary(c) for c in collections[offset : offset + limit]]
    following = str(offset + limit) if offset + limit < len(collections) else None
    preceding = str(max(offset - limit, 0)) if offset > 0 else None
    return JSONResponse(render.page(request, page, following, preceding))


def _offset(cursor: str | None) -> int:
    """A page's cursor (the list is fixed while the server runs: an offset does)."""
    if cursor is None:
        return 0
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 9:
        raise InvalidCursor(
            "The cursor isn't one this server handed out: follow the `next` or `previous` "
            "URL of a GET /v1/collections page."
        )
    return int(cursor)


async def get_collection(request: Request) -> Response:
    """GET /v1/collections/{slug} — a collection and its models, rendered as GET /v1/models
    renders them."""
    who = await authenticate(request)
    slug = request.path_params["slug"]
    collection = next((c for c in _configured(request) if c.slug == slug), None)
    if collection is None:
        known = ", ".join(c.slug for c in _configured(request)) or "none"
        raise NotFound(
            f"There is no collection {slug!r} (this server's collections: {known}; "
            "GET /v1/collections lists them)."
        )
    shown = await _shown_models(request, who, collection.models)
    return JSONResponse(
        {
            **_summary(collection),
            "full_description": collection.full_description,
            "models": [shown[name] for name in collection.models if name in shown],
        }
    )


async def search_collections(request: Request, who: Account, query: str) -> list[dict[str, Any]]:
    """The collections GET /v1/search answers for `query`: those whose slug, name or
    description hold every word, each with the names of the models it shows the caller."""
    found = [c for c in _configured(request) if c.matches(query)]
    shown = await _shown_models(request, who, tuple(n for c in found for n in c.models))
    return [{**_summary(c), "models": [name for name in c.models if name in shown]} for c in found]


async def _shown_models(
    request: Request, who: Account, names: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """`owner/name` -> the model as GET /v1/models shows it to `who`, for those of `names`
    this server hosts or stores and `who` may see."""
    if not names:
        return {}
    state = api_state(request)
    wanted = set(names)
    hosted = [r for r in (state.catalog.get(name) for name in wanted) if r is not None]

    async def render_hosted(record: ModelRecord) -> dict[str, Any]:
        return render.model(request, record.model, await setup_view(state, record))

    models = await library_views.models_for(
        request, who, hosted, render_hosted, lambda name, _description: name in wanted
    )
    return {f"{m['owner']}/{m['name']}": m for m in models}


_SUMMARY: Schema = {
    "type": "object",
    "required": ["name", "slug", "description"],
    "properties": {
        "name": {"type": "string"},
        "slug": {"type": "string", "description": "Lowercase words joined by dashes."},
        "description": {"type": "string"},
    },
}
describe(
    Operation(
        "get", "/collections", "collections.list", "List the collections of models",
        {200: json("CollectionPage"), 400: BAD, 422: INVALID},
        (query_param("cursor", "The page to fetch, from a `next` or `previous` link"),
         query_param("limit", "At most this many (1-100, default 100)", {"type": "integer"})),
        tags=("models",),
    ),
    Operation(
        "get", "/collections/{slug}", "collections.get", "A collection and its models",
        {200: json("Collection"), 404: NOT_FOUND},
        (path_param("slug", "The collection's slug"),), tags=("models",),
    ),
)  # fmt: skip
add_schemas(
    {
        "CollectionPage": page(ref("CollectionSummary")),
        "CollectionSummary": _SUMMARY,
        "Collection": {
            **_SUMMARY,
            "required": [*_SUMMARY["required"], "full_description", "models"],
            "properties": {
                **_SUMMARY["properties"],
                "full_description": nullable({"type": "string", "description": "Markdown."}),
                "models": {"type": "array", "items": ref("Model")},
            },
        },
    }
)
