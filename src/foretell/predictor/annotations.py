"""Python type annotations -> ValueType trees, the one description schema and inputs share."""

from __future__ import annotations

import dataclasses
import enum
import io
import os
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from foretell.predictor.base import BaseModel
from foretell.predictor.errors import PredictorLoadError
from foretell.predictor.types import Secret, _OpaqueMarker


class Kind(enum.Enum):
    """What a value is: a JSON primitive, a file, a secret, or a container of values."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    PATH = "path"
    FILE = "file"
    SECRET = "secret"  # noqa: S105 — a type name, not a password
    #: any JSON object: dict, Any, a TypedDict, or Annotated[T, Opaque]
    OBJECT = "object"
    ARRAY = "array"
    #: dict[str, V] with a described value type (outputs only)
    MAP = "map"
    #: cog.BaseModel, a dataclass or a pydantic model (outputs only)
    MODEL = "model"
    UNION = "union"


#: Kinds a JSON value can be checked against directly (no files, no secrets).
JSON_NATIVE = frozenset({Kind.STRING, Kind.INTEGER, Kind.NUMBER, Kind.BOOLEAN, Kind.OBJECT})
FILES = frozenset({Kind.PATH, Kind.FILE})


@dataclass(frozen=True)
class FieldSpec:
    """One field of a structured (BaseModel) output."""

    name: str
    type: ValueType
    required: bool


@dataclass(frozen=True)
class ValueType:
    """The shape of a value: a kind, plus items, union variants or model fields."""

    kind: Kind
    #: ARRAY items, or MAP values
    items: ValueType | None = None
    variants: tuple[ValueType, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    nullable: bool = False

    @property
    def leaf(self) -> Kind:
        """The kind of each value: the item kind of an array, else the kind itself."""
        return self.items.leaf if self.kind is Kind.ARRAY and self.items else self.kind

    def kinds(self) -> Iterable[Kind]:
        """Every kind anywhere in this type."""
        yield self.kind
        for child in (self.items, *self.variants, *(f.type for f in self.fields)):
            if child is not None:
                yield from child.kinds()


_SIMPLE: dict[Any, Kind] = {
    str: Kind.STRING,
    int: Kind.INTEGER,
    float: Kind.NUMBER,
    bool: Kind.BOOLEAN,
    Secret: Kind.SECRET,
    dict: Kind.OBJECT,
    Any: Kind.OBJECT,
}


def parse(annotation: Any, where: str, seen: frozenset[type] = frozenset()) -> ValueType:
    """The ValueType of an annotation; PredictorLoadError naming `where` if unsupported."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        inner, *metadata = args
        if any(isinstance(m, _OpaqueMarker) for m in metadata):
            return _opaque(inner)
        return parse(inner, where, seen)
    if origin in (typing.Union, types.UnionType):
        return _union(args, where, seen)
    if annotation is list or origin is list:
        item = args[0] if args else Any
        return ValueType(Kind.ARRAY, items=parse(item, where, seen))
    if annotation is dict or origin is dict:
        value = args[1] if len(args) == 2 else Any
        if value is Any:
            return ValueType(Kind.OBJECT)
        return ValueType(Kind.MAP, items=parse(value, where, seen))
    return _simple(annotation, where, seen)


def _opaque(inner: Any) -> ValueType:
    """Annotated[T, Opaque]: an object, or a list of objects when T is a list."""
    members = [a for a in typing.get_args(inner) if a is not type(None)]
    nullable = typing.get_origin(inner) in (typing.Union, types.UnionType)
    if nullable and len(members) == 1:
        inner = members[0]
    if inner is list or typing.get_origin(inner) is list:
        return ValueType(Kind.ARRAY, items=ValueType(Kind.OBJECT), nullable=nullable)
    return ValueType(Kind.OBJECT, nullable=nullable)


def _union(args: tuple[Any, ...], where: str, seen: frozenset[type]) -> ValueType:
    members = [a for a in args if a is not type(None) and a is not None]
    nullable = len(members) < len(args)
    if len(members) == 1:
        return dataclasses.replace(parse(members[0], where, seen), nullable=nullable)
    variants = tuple(parse(member, where, seen) for member in members)
    return ValueType(Kind.UNION, variants=variants, nullable=nullable)


def _simple(annotation: Any, where: str, seen: frozenset[type]) -> ValueType:
    try:
        simple = _SIMPLE.get(annotation)
    except TypeError:  # an unhashable object used as an annotation
        simple = None
    if simple is not None:
        return ValueType(simple)
    if typing.is_typeddict(annotation):
        return ValueType(Kind.OBJECT)
    if isinstance(annotation, type):
        if issubclass(annotation, io.IOBase):  # cog.File included
            return ValueType(Kind.FILE)
        if issubclass(annotation, os.PathLike):
            return ValueType(Kind.PATH)
        if is_model_class(annotation):
            if annotation in seen:  # a model that contains itself: describe the inner one loosely
                return ValueType(Kind.OBJECT)
            return ValueType(
                Kind.MODEL, fields=model_fields(annotation, where, seen | {annotation})
            )
    hint = (
        " (use Input(choices=[...]) for a fixed set of values)" if _is_literal(annotation) else ""
    )
    raise PredictorLoadError(f"{where}: unsupported type {type_name(annotation)}{hint}")


def _is_literal(annotation: Any) -> bool:
    return typing.get_origin(annotation) is typing.Literal


def type_name(annotation: Any) -> str:
    """A readable name for an annotation."""
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return repr(annotation).replace("typing.", "")


def is_model_class(cls: type) -> bool:
    """cog.BaseModel subclasses, dataclasses and pydantic models describe structured outputs."""
    return (
        issubclass(cls, BaseModel)
        or dataclasses.is_dataclass(cls)
        or hasattr(cls, "model_fields")
        or hasattr(cls, "__fields__")
    )


def pydantic_fields(cls: type) -> dict[str, Any] | None:
    """A pydantic model class's fields (v2 `model_fields`, or v1 `__fields__`), else None."""
    fields = getattr(cls, "model_fields", None)
    if fields is None:
        fields = getattr(cls, "__fields__", None)
    return fields if isinstance(fields, dict) else None


def model_fields(cls: type, where: str, seen: frozenset[type]) -> tuple[FieldSpec, ...]:
    """The fields of a model class, in declaration order; a field with a default isn't required."""
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception as exc:
        message = f"{where}: can't resolve the fields of {cls.__name__} ({exc})"
        raise PredictorLoadError(message) from exc
    optional = _fields_with_defaults(cls)
    declared = pydantic_fields(cls)
    names = list(hints if declared is None else declared)
    specs = []
    for name in names:
        if name.startswith("_") or typing.get_origin(hints.get(name)) is typing.ClassVar:
            continue
        field_type = parse(hints.get(name, Any), f"{where} field {name!r}", seen)
        required = not field_type.nullable and name not in optional
        specs.append(FieldSpec(name, field_type, required))
    return tuple(specs)


def _fields_with_defaults(cls: type) -> set[str]:
    if dataclasses.is_dataclass(cls):
        return {
            f.name
            for f in dataclasses.fields(cls)
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        }
    return {
        name
        for name, info in (pydantic_fields(cls) or {}).items()
        if not (info.is_required() if hasattr(info, "is_required") else info.required)
    }
