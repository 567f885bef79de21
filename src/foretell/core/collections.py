"""Collections of models (Replicate's /v1/collections): a small configuration, checked.

A collections file decodes (YAML or TOML, see foretell.api.collections) to a mapping
`{"collections": [{slug, name, description, full_description, models}, ...]}`; this module
turns it into Collection records or says which entry is wrong and how. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from foretell.core.refs import InvalidModelRef, ModelRef

#: the collection the built-in models (foretell/*) form
BUILTIN_SLUG = "built-in"
#: Replicate's slugs: lowercase letters and digits, words joined by single dashes
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MAX_SLUG = 100
_KEYS = ("slug", "name", "description", "full_description", "models")


class CollectionsError(ValueError):
    """A collections configuration that can't be used; the message names the entry."""


@dataclass(frozen=True)
class Collection:
    """A named, ordered list of models (by `owner/name`)."""

    slug: str
    name: str
    description: str
    models: tuple[str, ...]
    #: Markdown shown on the collection's own page (Replicate's `full_description`)
    full_description: str | None = None

    def matches(self, query: str) -> bool:
        """Whether every word of `query` is in its slug, name or description (any case)."""
        text = f"{self.slug} {self.name} {self.description}".lower()
        return all(word in text for word in query.lower().split())


def builtin_collection(names: Iterable[str]) -> Collection:
    """The collection of the built-in models `names`, in that order."""
    return Collection(
        slug=BUILTIN_SLUG,
        name="Built-in models",
        description="The models that ship with foretell and run offline on a CPU.",
        models=tuple(names),
    )


def combine(builtin: Collection, configured: Iterable[Collection]) -> list[Collection]:
    """The collections a server lists: the built-in one first, then the configured ones in
    their order; a configured collection with the built-in slug replaces the built-in one."""
    configured = list(configured)
    if any(c.slug == builtin.slug for c in configured):
        return configured
    return [builtin, *configured]


def parse_collections(data: object) -> list[Collection]:
    """A decoded collections file as Collection records, in the file's order. An empty
    file (None) has none. Raises CollectionsError naming the first wrong entry."""
    if data is None:
        return []
    if not isinstance(data, Mapping) or set(data) - {"collections"}:
        raise CollectionsError(
            "the file must hold one key, `collections`: a list of collections "
            "(each with slug, name, description and models)"
        )
    entries = data.get("collections") or []
    if not isinstance(entries, list):
        raise CollectionsError("`collections` must be a list of collections")
    collections = [_collection(f"collections[{i}]", entry) for i, entry in enumerate(entries)]
    seen: set[str] = set()
    for where, collection in enumerate(collections):
        if collection.slug in seen:
            raise CollectionsError(
                f"collections[{where}]: slug {collection.slug!r} is used twice (slugs are "
                "the collections' names in URLs: each must be unique)"
            )
        seen.add(collection.slug)
    return collections


def _collection(where: str, entry: object) -> Collection:
    if not isinstance(entry, Mapping):
        raise CollectionsError(f"{where}: must be a mapping with slug, name and models")
    unknown = sorted(str(key) for key in entry if key not in _KEYS)
    if unknown:
        raise CollectionsError(
            f"{where}: unknown key {unknown[0]!r} (a collection has {', '.join(_KEYS)})"
        )
    slug = _text(where, entry, "slug", required=True)
    if len(slug) > _MAX_SLUG or not SLUG.fullmatch(slug):
        raise CollectionsError(
            f"{where}.slug: {slug!r} is not a slug: use lowercase letters and digits, words "
            f"joined by single dashes, at most {_MAX_SLUG} characters (e.g. text-tools)"
        )
    full_description = _text(where, entry, "full_description") or None
    return Collection(
        slug=slug,
        name=_text(where, entry, "name", required=True),
        description=_text(where, entry, "description"),
        models=_models(f"{where}.models", entry.get("models")),
        full_description=full_description,
    )


def _text(where: str, entry: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = entry.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise CollectionsError(f"{where}.{key}: must be a non-empty string (got {value!r})")
    return value.strip()


def _models(where: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise CollectionsError(f"{where}: must be a list of model names (owner/name)")
    names: list[str] = []
    for i, item in enumerate(value):
        name = _model_name(f"{where}[{i}]", item)
        if name in names:
            raise CollectionsError(f"{where}[{i}]: {name} is listed twice")
        names.append(name)
    return tuple(names)


def _model_name(where: str, item: object) -> str:
    try:
        ref = ModelRef.parse(item) if isinstance(item, str) else None
    except InvalidModelRef:
        ref = None
    if ref is None or ref.model is None or ref.version is not None:
        raise CollectionsError(f"{where}: {item!r} is not a model name: use owner/name")
    return ref.model
