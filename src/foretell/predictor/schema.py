"""Input and output specs -> the OpenAPI document Cog generates for a model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from foretell.predictor.annotations import Kind, ValueType
from foretell.predictor.inspect import InputSpec, OutputShape, OutputSpec

OPENAPI_VERSION = "3.0.2"
#: The Cog release whose schema format this mirrors; `info.version` carries it.
COG_VERSION = "0.23.1"

_REF = "#/components/schemas/"

#: what a worker runs: predict()/run(), or cog.yaml's `train:`
MODES = ("predict", "train")


@dataclass(frozen=True)
class _Names:
    """The component and path names of one mode (Cog's generator swaps these for train)."""

    input: str
    output: str
    request: str
    response: str
    endpoint: str
    id_param: str
    verb: str


_NAMES = {
    "predict": _Names(
        "Input", "Output", "PredictionRequest", "PredictionResponse", "predictions",
        "prediction_id", "predict",
    ),
    "train": _Names(
        "TrainingInput", "TrainingOutput", "TrainingRequest", "TrainingResponse", "trainings",
        "training_id", "train",
    ),
}  # fmt: skip


def kind_schema(kind: Kind) -> dict[str, Any]:
    """JSON Schema of one primitive value of `kind`, as Cog writes it."""
    if kind in (Kind.PATH, Kind.FILE):
        return {"type": "string", "format": "uri"}
    if kind is Kind.SECRET:
        return {"type": "string", "format": "password", "writeOnly": True, "x-cog-secret": True}
    return {"type": kind.value}


def value_schema(value_type: ValueType) -> dict[str, Any]:
    """JSON Schema of a value of `value_type` (without `nullable`, which callers place)."""
    kind = value_type.kind
    if kind is Kind.ARRAY:
        items = value_type.items or ValueType(Kind.OBJECT)
        return {"type": "array", "items": _nested(items)}
    if kind is Kind.MAP:
        assert value_type.items is not None
        return {"type": "object", "additionalProperties": _nested(value_type.items)}
    if kind is Kind.MODEL:
        return _model_schema(value_type)
    if kind is Kind.UNION:
        return {"anyOf": [_union_variant(v, value_type.nullable) for v in value_type.variants]}
    return kind_schema(kind)


def _nested(value_type: ValueType) -> dict[str, Any]:
    schema = value_schema(value_type)
    return schema | {"nullable": True} if value_type.nullable else schema


def _union_variant(variant: ValueType, nullable: bool) -> dict[str, Any]:
    # Cog's generator marks every variant of a nullable union nullable, and the union too.
    schema = value_schema(variant)
    return schema | {"nullable": True} if nullable else schema


def _model_schema(value_type: ValueType) -> dict[str, Any]:
    properties = {}
    for field in value_type.fields:
        properties[field.name] = _nested(field.type) | {"title": title(field.name)}
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    required = [field.name for field in value_type.fields if field.required]
    if required:
        schema["required"] = required
    return schema


def title(name: str) -> str:
    """`api_key` -> `Api Key`, Cog's titles."""
    return " ".join(word[:1].upper() + word[1:] for word in name.split("_"))


def input_property(spec: InputSpec) -> dict[str, Any]:
    """The `components.schemas.Input.properties` entry of one input."""
    info = spec.info
    prop: dict[str, Any] = {"x-order": spec.order}
    if info.choices is not None:
        prop["allOf"] = [{"$ref": _REF + spec.name}]
    else:
        prop["title"] = title(spec.name)
        prop.update(value_schema(spec.type))
    if spec.has_default:
        prop["default"] = spec.default
    if spec.nullable:
        prop["nullable"] = True
    optional = {
        "description": info.description,
        "minimum": info.ge,
        "maximum": info.le,
        "minLength": info.min_length,
        "maxLength": info.max_length,
        "pattern": info.regex,
    }
    prop.update({key: value for key, value in optional.items() if value is not None})
    if info.deprecated:
        prop["deprecated"] = True
    if info.accept is not None:
        prop["x-cog-accept"] = info.accept
    return prop


def enum_component(spec: InputSpec) -> dict[str, Any]:
    """The named enum component Cog writes for an input with `choices`."""
    return {
        "title": spec.name,
        "description": "An enumeration.",
        "enum": [_plain(choice) for choice in spec.info.choices or []],
        "type": kind_schema(spec.kind)["type"],
    }


def _plain(choice: Any) -> Any:
    return getattr(choice, "value", choice)  # enum members are written as their values


def input_component(inputs: list[InputSpec], title: str = "Input") -> dict[str, Any]:
    """`components.schemas.Input` (`TrainingInput` for a training, titled so)."""
    component: dict[str, Any] = {
        "title": title,
        "type": "object",
        "properties": {spec.name: input_property(spec) for spec in inputs},
    }
    required = [spec.name for spec in inputs if spec.required]
    if required:
        component["required"] = required
    return component


def output_component(output: OutputSpec) -> dict[str, Any]:
    """`components.schemas.Output`; a training's `TrainingOutput` has this title too (as in
    Cog's generator)."""
    component: dict[str, Any] = {"title": "Output"}
    if output.shape is OutputShape.SINGLE:
        return component | value_schema(output.type)
    component.update({"type": "array", "items": value_schema(output.type)})
    component["x-cog-array-type"] = "iterator"
    if output.shape is OutputShape.CONCATENATE:
        component["x-cog-array-display"] = "concatenate"
    return component


def openapi_document(
    inputs: list[InputSpec], output: OutputSpec, mode: str = "predict"
) -> dict[str, Any]:
    """The whole OpenAPI document of a model, in Cog's layout. A `train` document (of
    cog.yaml's `train:`) names its components TrainingInput/TrainingOutput/TrainingRequest/
    TrainingResponse and its paths /trainings, as Cog's generator does."""
    names = _NAMES[mode]
    schemas: dict[str, Any] = {
        names.input: input_component(inputs, names.input),
        names.output: output_component(output),
    }
    schemas.update({s.name: enum_component(s) for s in inputs if s.info.choices is not None})
    schemas.update(_envelope_components(names))
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Cog", "version": COG_VERSION},
        "paths": _paths(names),
        "components": {"schemas": schemas},
    }


def merge_schemas(predict: dict[str, Any], train: dict[str, Any]) -> dict[str, Any]:
    """One document for a model with both `predict:` and `train:` (what Cog publishes for a
    trainable model): the predict document plus the training paths and components it lacks."""
    merged = {**predict, "paths": {**train.get("paths", {}), **predict.get("paths", {})}}
    schemas = {
        **train.get("components", {}).get("schemas", {}),
        **predict.get("components", {}).get("schemas", {}),
    }
    merged["components"] = {**predict.get("components", {}), "schemas": schemas}
    return merged


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _envelope_components(names: _Names) -> dict[str, Any]:
    def string(name: str, fmt: str | None = None) -> dict[str, Any]:
        prop = {"title": name, "type": "string"}
        return prop | {"format": fmt} if fmt else prop

    return {
        names.request: {
            "title": names.request,
            "type": "object",
            "properties": {"id": string("Id"), "input": _ref(names.input)},
        },
        names.response: {
            "title": names.response,
            "type": "object",
            "properties": {
                "input": _ref(names.input),
                "output": _ref(names.output),
                "id": string("Id"),
                "version": string("Version"),
                "created_at": string("Created At", "date-time"),
                "started_at": string("Started At", "date-time"),
                "completed_at": string("Completed At", "date-time"),
                "status": string("Status"),
                "error": string("Error"),
                "logs": string("Logs"),
                "metrics": {"title": "Metrics", "type": "object"},
            },
        },
        "Status": {
            "title": "Status",
            "description": "An enumeration.",
            "enum": ["starting", "processing", "succeeded", "canceled", "failed"],
            "type": "string",
        },
        "HTTPValidationError": {
            "title": "HTTPValidationError",
            "type": "object",
            "properties": {
                "detail": {"title": "Detail", "type": "array", "items": _ref("ValidationError")}
            },
        },
        "ValidationError": {
            "title": "ValidationError",
            "required": ["loc", "msg", "type"],
            "type": "object",
            "properties": {
                "loc": {
                    "title": "Location",
                    "type": "array",
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                },
                "msg": string("Message"),
                "type": string("Error Type"),
            },
        },
    }


def _json_response(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _paths(names: _Names) -> dict[str, Any]:
    ok = _json_response({}, "Successful Response")
    invalid = _json_response(_ref("HTTPValidationError"), "Validation Error")
    return {
        "/": {"get": {"summary": "Root", "operationId": "root__get", "responses": {"200": ok}}},
        "/health-check": {
            "get": {
                "summary": "Healthcheck",
                "operationId": "healthcheck_health_check_get",
                "responses": {"200": ok},
            }
        },
        f"/{names.endpoint}": {
            "post": {
                "summary": names.verb.capitalize(),
                "description": f"Run a single {_noun(names)} on the model",
                "operationId": f"{names.verb}_{names.endpoint}_post",
                "requestBody": {"content": {"application/json": {"schema": _ref(names.request)}}},
                "responses": {
                    "200": _json_response(_ref(names.response), "Successful Response"),
                    "422": invalid,
                },
            }
        },
        f"/{names.endpoint}/{{{names.id_param}}}/cancel": {
            "post": {
                "summary": "Cancel",
                "operationId": f"cancel_{names.endpoint}__{names.id_param}__cancel_post",
                "parameters": [
                    {
                        "required": True,
                        "schema": {"title": title(names.id_param), "type": "string"},
                        "name": names.id_param,
                        "in": "path",
                    }
                ],
                "responses": {"200": ok, "422": invalid},
            }
        },
    }


def _noun(names: _Names) -> str:
    return names.endpoint.removesuffix("s")  # "prediction", "training"
