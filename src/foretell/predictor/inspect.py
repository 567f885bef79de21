"""Read a predictor's signature into input and output specs, shared by schema and inputs."""

from __future__ import annotations

import dataclasses
import enum
import inspect
import io
import os
import types
import typing
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from foretell.predictor.errors import PredictorLoadError
from foretell.predictor.input import FieldInfo
from foretell.predictor.types import (
    AsyncConcatenateIterator,
    ConcatenateIterator,
    File,
    Opaque,
    Secret,
)


class Kind(enum.Enum):
    """The primitive kind of an input or output value."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    PATH = "path"
    FILE = "file"
    SECRET = "secret"  # noqa: S105 — a type name, not a password
    OBJECT = "object"
    ANY = "any"


_PRIMITIVES: dict[Any, Kind] = {
    str: Kind.STRING,
    int: Kind.INTEGER,
    float: Kind.NUMBER,
    bool: Kind.BOOLEAN,
    Secret: Kind.SECRET,
    dict: Kind.OBJECT,
    Any: Kind.ANY,
}


@dataclass(frozen=True)
class InputSpec:
    """One input of predict()/run(): its type, constraints and default."""

    name: str
    order: int
    kind: Kind
    is_list: bool
    nullable: bool
    required: bool
    default: Any
    info: FieldInfo


class OutputShape(enum.Enum):
    """How an output value is shaped around its items."""

    SINGLE = "single"
    LIST = "list"
    ITERATOR = "iterator"
    CONCATENATE = "concatenate"
    OBJECT = "object"


@dataclass(frozen=True)
class OutputSpec:
    """The declared return type of predict()/run()."""

    shape: OutputShape
    kind: Kind | None = None
    #: for OBJECT outputs: field name -> (kind, is_list, nullable)
    fields: tuple[tuple[str, Kind, bool, bool], ...] = ()


_MISSING = inspect.Parameter.empty


def kind_of(annotation: Any, where: str) -> Kind:
    """The Kind of a plain (non-generic) annotation."""
    if annotation in _PRIMITIVES:
        return _PRIMITIVES[annotation]
    if typing.get_origin(annotation) is dict:
        return Kind.OBJECT
    if isinstance(annotation, type):
        if issubclass(annotation, File | io.IOBase):
            return Kind.FILE
        if issubclass(annotation, os.PathLike):
            return Kind.PATH
    raise PredictorLoadError(f"{where}: unsupported type {_type_name(annotation)}")


def unwrap(annotation: Any, where: str) -> tuple[Kind, bool, bool]:
    """(kind, is_list, nullable) of an annotation such as `list[Path] | None`."""
    nullable = False
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *metadata = typing.get_args(annotation)
        if Opaque in metadata:  # Cog's escape hatch: passed through as an object (or list)
            return Kind.OBJECT, typing.get_origin(inner) in (list, typing.List), False  # noqa: UP006
        return unwrap(inner, where)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            raise PredictorLoadError(
                f"{where}: union types other than Optional[T] are not supported"
            )
        nullable, annotation = True, members[0]
        origin = typing.get_origin(annotation)
    if origin in (list, typing.List):  # noqa: UP006 — the typing alias is a distinct origin
        (item,) = typing.get_args(annotation) or (Any,)
        if typing.get_origin(item) in (list, typing.List):  # noqa: UP006
            raise PredictorLoadError(f"{where}: nested lists are not supported")
        return kind_of(item, where), True, nullable
    return kind_of(annotation, where), False, nullable


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation)


def type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """Resolved annotations of `fn`, with a clear error when one can't be resolved."""
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:
        raise PredictorLoadError(
            f"{fn.__qualname__}: can't resolve its type annotations ({exc})"
        ) from exc


def inspect_inputs(fn: Callable[..., Any]) -> list[InputSpec]:
    """The inputs of a bound predict()/run() method (or function), in signature order."""
    hints = type_hints(fn)
    specs = []
    parameters = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
    for order, param in enumerate(parameters):
        where = f"{fn.__qualname__}() input {param.name!r}"
        if param.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD:
            raise PredictorLoadError(f"{where}: *args, **kwargs and keyword-only are not allowed")
        if param.name not in hints:
            raise PredictorLoadError(f"{where}: add a type annotation")
        specs.append(_input_spec(param, hints[param.name], order, where))
    return specs


def _input_spec(param: inspect.Parameter, annotation: Any, order: int, where: str) -> InputSpec:
    kind, is_list, nullable = unwrap(annotation, where)
    if isinstance(param.default, FieldInfo):
        info = param.default
        explicit_default = info.default_given or info.default is not None
    elif param.default is _MISSING:
        info, explicit_default = FieldInfo(), False
    else:
        info, explicit_default = FieldInfo(default=param.default, default_given=True), True
    default = info.default
    # `Input(default=None)` makes an input optional and nullable (the legacy Cog behaviour
    # that "leave blank to randomize" seeds rely on); `Input()` alone keeps it required.
    if explicit_default and default is None:
        nullable = True
    required = not explicit_default and not nullable
    _check_field(info, kind, is_list, where)
    return InputSpec(param.name, order, kind, is_list, nullable, required, default, info)


def _check_field(info: FieldInfo, kind: Kind, is_list: bool, where: str) -> None:
    numeric = kind in (Kind.INTEGER, Kind.NUMBER)
    if (info.ge is not None or info.le is not None) and not numeric:
        raise PredictorLoadError(f"{where}: ge/le apply to int and float inputs only")
    stringy = kind in (Kind.STRING, Kind.SECRET)
    if (info.min_length, info.max_length, info.regex) != (None, None, None) and not stringy:
        raise PredictorLoadError(f"{where}: min_length/max_length/regex apply to str inputs only")
    if info.choices is not None:
        _check_choices(info, kind, where)
    default = info.default
    if default is not None and numeric and not is_list:
        if info.ge is not None and default < info.ge:
            raise PredictorLoadError(f"{where}: default {default} is below ge={info.ge}")
        if info.le is not None and default > info.le:
            raise PredictorLoadError(f"{where}: default {default} is above le={info.le}")


def _check_choices(info: FieldInfo, kind: Kind, where: str) -> None:
    choices = info.choices or []
    if kind not in (Kind.STRING, Kind.INTEGER):
        raise PredictorLoadError(f"{where}: choices apply to str and int inputs only")
    if len(choices) < 2:
        raise PredictorLoadError(f"{where}: choices needs at least 2 values")
    expected = str if kind is Kind.STRING else int
    if not all(type(c) is expected for c in choices):
        raise PredictorLoadError(f"{where}: every choice must be a {expected.__name__}")
    if (info.ge, info.le, info.min_length, info.max_length) != (None, None, None, None):
        raise PredictorLoadError(f"{where}: choices can't be combined with ge/le/length limits")


def inspect_output(fn: Callable[..., Any]) -> OutputSpec:
    """The output spec of predict()/run() from its return annotation."""
    where = f"{fn.__qualname__}() return type"
    hints = type_hints(fn)
    if "return" not in hints or hints["return"] is None or hints["return"] is type(None):
        raise PredictorLoadError(f"{where}: add a return annotation (not None)")
    annotation = hints["return"]
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    origin = typing.get_origin(annotation) or annotation
    args = typing.get_args(annotation)
    if origin in (ConcatenateIterator, AsyncConcatenateIterator):
        if args and args[0] is not str:
            raise PredictorLoadError(f"{where}: ConcatenateIterator items must be str")
        return OutputSpec(OutputShape.CONCATENATE, Kind.STRING)
    if origin in (Iterator, AsyncIterator, typing.Iterator, typing.AsyncIterator):
        return OutputSpec(OutputShape.ITERATOR, kind_of(args[0] if args else Any, where))
    if origin in (list, typing.List):  # noqa: UP006
        return OutputSpec(OutputShape.LIST, kind_of(args[0] if args else Any, where))
    if isinstance(annotation, type) and _is_model_class(annotation):
        return OutputSpec(OutputShape.OBJECT, fields=_object_fields(annotation, where))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        raise PredictorLoadError(f"{where}: Optional and union outputs are not supported")
    return OutputSpec(OutputShape.SINGLE, kind_of(annotation, where))


def _is_model_class(cls: type) -> bool:
    return dataclasses.is_dataclass(cls) or hasattr(cls, "model_fields")


def _object_fields(cls: type, where: str) -> tuple[tuple[str, Kind, bool, bool], ...]:
    hints = typing.get_type_hints(cls)
    names = list(getattr(cls, "model_fields", None) or hints)
    fields = []
    for name in names:
        kind, is_list, nullable = unwrap(hints[name], f"{where} field {name!r}")
        fields.append((name, kind, is_list, nullable))
    return tuple(fields)
