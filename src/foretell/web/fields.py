"""A model's input and output schema as the playground's form fields and output kinds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: strings at least this long (default or maxLength) get a multi-line box
_LONG_TEXT = 80
_MULTILINE_NAMES = ("prompt", "text", "description", "system", "template", "document")


@dataclass(frozen=True)
class Field:
    """One input of a model, resolved from Cog's OpenAPI `Input` component."""

    name: str
    title: str
    #: text, textarea, integer, number, boolean, choice, file, secret, list, json
    kind: str
    description: str | None
    default: Any
    has_default: bool
    required: bool
    nullable: bool
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    choices: tuple[Any, ...] = ()
    #: a list's item kind (text, integer, number, file, ...)
    item_kind: str | None = None
    deprecated: bool = False
    #: the JSON type the schema names (a choice's enum type)
    json_type: str | None = None

    @property
    def type_name(self) -> str:
        """The JSON type, as the docs tables show it."""
        names = {
            "text": "string",
            "textarea": "string",
            "secret": "string (secret)",
            "file": "file (URL)",
            "choice": f"{self.json_type or 'string'} (choice)",
            "json": "any JSON",
            "boolean": "boolean",
            "integer": "integer",
            "number": "number",
        }
        if self.kind == "list":
            return f"list of {names.get(self.item_kind or 'json', 'any JSON')}"
        return names[self.kind]

    @property
    def is_slider(self) -> bool:
        """Numbers bounded on both sides get a slider beside their box."""
        return self.kind in ("integer", "number") and None not in (self.minimum, self.maximum)


def components(schema: dict[str, Any]) -> dict[str, Any]:
    """`components.schemas` of an OpenAPI document (empty while the model loads)."""
    found: dict[str, Any] = schema.get("components", {}).get("schemas", {})
    return found


def _resolve(prop: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """A property with Cog's `allOf: [{$ref: ...}]` enum reference merged in."""
    merged = dict(prop)
    for part in prop.get("allOf", []):
        ref = part.get("$ref", "") if isinstance(part, dict) else ""
        target = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref.startswith("#/") else part
        # only what the enum itself says: its title and "An enumeration." are not the input's
        merged = {**{k: v for k, v in target.items() if k in ("enum", "type")}, **merged}
    merged.pop("allOf", None)
    return merged


def _kind(prop: dict[str, Any], name: str) -> str:
    if "enum" in prop:
        return "choice"
    kind = prop.get("type")
    if prop.get("x-cog-secret") or prop.get("format") == "password":
        return "secret"
    if kind == "string" and prop.get("format") == "uri":
        return "file"
    if kind == "string":
        return "textarea" if _is_long(prop, name) else "text"
    if kind in ("integer", "number", "boolean"):
        return str(kind)
    if kind == "array":
        return "list"
    return "json"


def _item_kind(items: dict[str, Any], name: str) -> str:
    """A list's item kind: each item is one line, so never a multi-line box."""
    kind = _kind(items, name)
    return "text" if kind == "textarea" else kind


def _is_long(prop: dict[str, Any], name: str) -> bool:
    default = prop.get("default")
    if isinstance(default, str) and (len(default) >= _LONG_TEXT or "\n" in default):
        return True
    if (prop.get("maxLength") or 0) >= _LONG_TEXT * 4:
        return True
    short = prop.get("maxLength") is not None and prop["maxLength"] < _LONG_TEXT
    return not short and any(word in name.lower() for word in _MULTILINE_NAMES)


def input_fields(schema: dict[str, Any]) -> list[Field]:
    """The model's inputs in `x-order`, each resolved to the widget it needs."""
    schemas = components(schema)
    spec = schemas.get("Input", {})
    required = set(spec.get("required", []))
    fields = []
    for name, raw in spec.get("properties", {}).items():
        prop = _resolve(raw, schemas)
        kind = _kind(prop, name)
        items = _resolve(prop.get("items", {}), schemas) if kind == "list" else {}
        fields.append(
            Field(
                name=name,
                title=str(raw.get("title") or name.replace("_", " ").title()),
                kind=kind,
                description=prop.get("description"),
                default=prop.get("default"),
                has_default="default" in prop,
                required=name in required,
                nullable=bool(prop.get("nullable")),
                minimum=prop.get("minimum"),
                maximum=prop.get("maximum"),
                min_length=prop.get("minLength"),
                max_length=prop.get("maxLength"),
                pattern=prop.get("pattern"),
                choices=tuple(prop.get("enum", ())),
                item_kind=_item_kind(items, name) if items else None,
                deprecated=bool(prop.get("deprecated")),
                json_type=prop.get("type"),
            )
        )
    properties = spec.get("properties", {})
    order = {name: raw.get("x-order", i) for i, (name, raw) in enumerate(properties.items())}
    return sorted(fields, key=lambda f: order[f.name])


def output_kind(schema: dict[str, Any]) -> str:
    """How the output shows: `stream` (concatenated text), `list`, `file`, `text`, `json`."""
    output = components(schema).get("Output", {})
    if output.get("x-cog-array-display") == "concatenate":
        return "stream"
    if output.get("type") == "array":
        return "list"
    if output.get("format") == "uri":
        return "file"
    if output.get("type") == "string":
        return "text"
    return "json"


def output_summary(schema: dict[str, Any]) -> str:
    """The output's type in words, for the docs."""
    output = components(schema).get("Output", {})
    if not output:
        return "unknown (the model is still loading)"
    item = output.get("items", {})
    words = {
        "stream": "a text stream (string tokens; join them)",
        "file": "a file (an output URL)",
        "text": "a string",
    }
    kind = output_kind(schema)
    if kind in words:
        return words[kind]
    if kind == "list":
        noun = "file URLs" if item.get("format") == "uri" else f"{item.get('type', 'value')}s"
        iterator = " yielded one by one" if output.get("x-cog-array-type") == "iterator" else ""
        return f"a list of {noun}{iterator}"
    props = output.get("properties")
    if props:
        return "an object with " + ", ".join(f"`{k}`" for k in props)
    return f"{output.get('type', 'any')} JSON"


def example_input(fields: list[Field], default_example: dict[str, Any] | None) -> dict[str, Any]:
    """The input the docs and snippets show: the model's default example, else its required
    inputs with a placeholder each."""
    if default_example and isinstance(default_example.get("input"), dict):
        return dict(default_example["input"])
    placeholders = {"file": "https://example.com/input.png", "integer": 1, "number": 1.0}
    example: dict[str, Any] = {}
    for f in fields:
        if f.required and not f.has_default:
            example[f.name] = f.choices[0] if f.choices else placeholders.get(f.kind, "...")
    return example
