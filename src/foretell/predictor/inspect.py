"""Read a predictor's signatures into input and output specs, shared by schema and inputs."""

from __future__ import annotations

import dataclasses
import enum
import inspect
import re
import typing
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from foretell.predictor.annotations import (
    FILES,
    JSON_NATIVE,
    Kind,
    ValueType,
    parse,
    type_name,
)
from foretell.predictor.errors import PredictorLoadError
from foretell.predictor.input import FieldInfo
from foretell.predictor.types import AsyncConcatenateIterator, ConcatenateIterator

_EMPTY = inspect.Parameter.empty
#: Inputs are passed by keyword, so positional-only parameters can't be inputs either.
_PLAIN_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD,)


@dataclass(frozen=True)
class InputSpec:
    """One input of predict()/run(): its type, constraints and default."""

    name: str
    order: int
    type: ValueType
    required: bool
    #: whether the signature gives a default (`Input()` alone gives none)
    has_default: bool
    default: Any
    info: FieldInfo

    @property
    def kind(self) -> Kind:
        """The kind of each value (the item kind of a list input)."""
        return self.type.leaf

    @property
    def is_list(self) -> bool:
        """Whether the input is a list."""
        return self.type.kind is Kind.ARRAY

    @property
    def nullable(self) -> bool:
        """Whether null is accepted."""
        return self.type.nullable


class OutputShape(enum.Enum):
    """How predict() delivers its output."""

    #: one returned value (which may itself be a list or an object)
    SINGLE = "single"
    #: a generator: each yielded item is an output event
    ITERATOR = "iterator"
    #: a generator of strings that clients join into one text
    CONCATENATE = "concatenate"


@dataclass(frozen=True)
class OutputSpec:
    """The declared return type of predict()/run()."""

    shape: OutputShape
    type: ValueType


def signature_function(method: Callable[..., Any]) -> tuple[Callable[..., Any], bool]:
    """The function whose signature describes `method`, and whether its first parameter is
    `self`. Decorators are looked through (functools.wraps, or one wrapped function in a
    closure, as Cog does)."""
    function = getattr(method, "__func__", method)
    has_self = function is not method
    function = inspect.unwrap(function)
    while _has_var_parameters(function):
        cells = getattr(function, "__closure__", None) or ()
        inner = [c.cell_contents for c in cells if inspect.isfunction(_cell(c))]
        if len(inner) != 1:
            break
        function = inspect.unwrap(inner[0])
    return function, has_self


def _cell(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def _has_var_parameters(function: Callable[..., Any]) -> bool:
    kinds = {p.kind for p in inspect.signature(function).parameters.values()}
    return bool(kinds & {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD})


def type_hints(function: Callable[..., Any]) -> dict[str, Any]:
    """Resolved annotations of `function`, with a clear error when one can't be resolved."""
    try:
        return typing.get_type_hints(function, include_extras=True)
    except Exception as exc:
        raise PredictorLoadError(
            f"{function.__qualname__}: can't resolve its type annotations ({exc})"
        ) from exc


def inspect_inputs(method: Callable[..., Any]) -> list[InputSpec]:
    """The inputs of predict()/run() (a bound method or a function), in signature order."""
    function, has_self = signature_function(method)
    hints = type_hints(function)
    parameters = list(inspect.signature(function).parameters.values())[1 if has_self else 0 :]
    specs = []
    for order, param in enumerate(parameters):
        where = f"{function.__qualname__}() input {param.name!r}"
        if param.kind not in _PLAIN_KINDS:
            raise PredictorLoadError(
                f"{where}: *args, **kwargs, keyword-only and positional-only inputs are not "
                "allowed; declare each input as a plain parameter"
            )
        if param.name not in hints:
            raise PredictorLoadError(f"{where}: add a type annotation, e.g. `{param.name}: str`")
        specs.append(_input_spec(param, hints[param.name], order, where))
    return specs


def _input_spec(param: inspect.Parameter, annotation: Any, order: int, where: str) -> InputSpec:
    value_type = input_type(parse(annotation, where), where)
    if isinstance(param.default, FieldInfo):
        info = param.default
        has_default = info.default_given or info.default is not None
    elif param.default is _EMPTY:
        info, has_default = FieldInfo(), False
    else:
        info, has_default = FieldInfo(default=param.default, default_given=True), True
    default = json_default(info.default)
    # `Input(default=None)` makes an input optional and nullable (the legacy Cog behaviour
    # that "leave blank to randomize" seeds rely on); `Input()` alone keeps it required.
    if has_default and default is None:
        value_type = dataclasses.replace(value_type, nullable=True)
    # Cog's generator requires a union input without a default even when it is nullable.
    is_union = value_type.kind is Kind.UNION
    required = not has_default and (is_union or not value_type.nullable)
    check_constraints(info, value_type, where)
    return InputSpec(param.name, order, value_type, required, has_default, default, info)


def json_default(value: Any) -> Any:
    """A default as JSON: enum members become their values, tuples lists."""
    if isinstance(value, enum.Enum):
        return json_default(value.value)
    if isinstance(value, tuple | list):
        return [json_default(item) for item in value]
    return value


def input_type(value_type: ValueType, where: str) -> ValueType:
    """Check that a parsed type can be an input; dict[str, V] becomes a plain object."""
    if value_type.kind is Kind.MAP:
        return dataclasses.replace(value_type, kind=Kind.OBJECT, items=None)
    if value_type.kind is Kind.MODEL:
        raise PredictorLoadError(f"{where}: model classes can't be inputs; use dict instead")
    if value_type.kind is Kind.ARRAY:
        assert value_type.items is not None
        items = input_type(value_type.items, where)
        if items.kind in (Kind.ARRAY, Kind.UNION) or items.nullable:
            raise PredictorLoadError(f"{where}: list items must be a single, non-optional type")
        return dataclasses.replace(value_type, items=items)
    if value_type.kind is Kind.UNION:
        variants = tuple(input_type(v, where) for v in value_type.variants)
        for variant in variants:
            if variant.leaf not in JSON_NATIVE or variant.nullable:
                raise PredictorLoadError(
                    f"{where}: unions may only combine str, int, float, bool, dict and lists "
                    f"of those (not {variant.leaf.value})"
                )
        return dataclasses.replace(value_type, variants=variants)
    return value_type


def check_constraints(info: FieldInfo, value_type: ValueType, where: str) -> None:
    """Refuse Input(...) options that don't apply to the input's type, as Cog does."""
    leaf = value_type.leaf
    bounded = (info.ge, info.le) != (None, None)
    sized = (info.min_length, info.max_length, info.regex) != (None, None, None)
    if value_type.kind is Kind.UNION and (bounded or sized or info.choices is not None):
        raise PredictorLoadError(f"{where}: constraints and choices don't apply to union inputs")
    if bounded and leaf not in (Kind.INTEGER, Kind.NUMBER):
        raise PredictorLoadError(f"{where}: ge/le apply to int and float inputs only")
    if sized and leaf not in (Kind.STRING, Kind.SECRET):
        raise PredictorLoadError(f"{where}: min_length/max_length/regex apply to str inputs only")
    if info.regex is not None:
        try:
            re.compile(info.regex)
        except re.error as exc:
            raise PredictorLoadError(f"{where}: regex {info.regex!r} is invalid ({exc})") from exc
    if info.choices is not None:
        _check_choices(info, value_type, where)


def _check_choices(info: FieldInfo, value_type: ValueType, where: str) -> None:
    choices = [json_default(choice) for choice in info.choices or []]
    if value_type.kind not in (Kind.STRING, Kind.INTEGER):
        raise PredictorLoadError(f"{where}: choices apply to single str and int inputs only")
    if len(choices) < 2:
        raise PredictorLoadError(f"{where}: choices needs at least 2 values (got {choices!r})")
    expected, name = (str, "a str") if value_type.kind is Kind.STRING else (int, "an int")
    if not all(type(choice) is expected for choice in choices):
        raise PredictorLoadError(f"{where}: every choice must be {name} (got {choices!r})")
    if (info.ge, info.le, info.min_length, info.max_length) != (None, None, None, None):
        raise PredictorLoadError(
            f"{where}: choices can't be combined with ge/le or min_length/max_length"
        )


def inspect_output(method: Callable[..., Any]) -> OutputSpec:
    """The output spec of predict()/run() from its return annotation."""
    function, _ = signature_function(method)
    where = f"{function.__qualname__}() return type"
    hints = type_hints(function)
    annotation = hints.get("return")
    if annotation is None or annotation is type(None):
        raise PredictorLoadError(f"{where}: add a return annotation (not None), e.g. `-> str`")
    bare = annotation
    while typing.get_origin(bare) is typing.Annotated:
        bare = typing.get_args(bare)[0]
    origin = typing.get_origin(bare) or bare
    args = typing.get_args(bare)
    if origin in (ConcatenateIterator, AsyncConcatenateIterator):
        if len(args) != 1 or args[0] is not str:
            raise PredictorLoadError(f"{where}: {type_name(origin)} items must be str")
        return OutputSpec(OutputShape.CONCATENATE, ValueType(Kind.STRING))
    if origin in (Iterator, AsyncIterator):
        if len(args) != 1:
            raise PredictorLoadError(f"{where}: give the item type, e.g. Iterator[str]")
        return OutputSpec(OutputShape.ITERATOR, output_type(parse(args[0], where), where))
    return OutputSpec(OutputShape.SINGLE, output_type(parse(annotation, where), where))


def output_type(value_type: ValueType, where: str, *, in_model: bool = False) -> ValueType:
    """Check that a parsed type can be an output: no unions, Optional only on model fields."""
    if value_type.kind is Kind.UNION:
        raise PredictorLoadError(f"{where}: union outputs are not supported")
    if value_type.nullable and not in_model:
        raise PredictorLoadError(
            f"{where}: Optional outputs are not supported; a prediction either returns a "
            "value or fails"
        )
    if value_type.items is not None:
        output_type(value_type.items, where)
    for field in value_type.fields:
        output_type(field.type, f"{where} field {field.name!r}", in_model=True)
    return value_type


def has_files(value_type: ValueType) -> bool:
    """Whether values of this type contain files."""
    return any(kind in FILES for kind in value_type.kinds())


def check_setup(setup: Callable[..., Any]) -> None:
    """Cog's rules for setup(): besides self, only `weights` may lack a default; no *args,
    **kwargs or keyword-only parameters; no return value."""
    function, has_self = signature_function(setup)
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())[1 if has_self else 0 :]
    for param in parameters:
        if param.kind not in _PLAIN_KINDS:
            raise PredictorLoadError(
                "setup() may not take *args, **kwargs, keyword-only or positional-only "
                f"parameters ({param.name!r})"
            )
        if param.default is _EMPTY and param.name != "weights":
            raise PredictorLoadError(
                f"setup() may take only an optional `weights` argument (found {param.name!r})"
            )
    returns = signature.return_annotation
    if returns not in (_EMPTY, None, "None"):
        raise PredictorLoadError("setup() must return None; keep what it loads on self")
