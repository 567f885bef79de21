"""What predict() receives: JSON values turned into the Python types its signature declares."""

from __future__ import annotations

import pathlib

from cog import Secret
from foretell.predictor.load import load_predictor

PREDICTORS = pathlib.Path(__file__).parents[1] / "fixtures" / "predictors"


def test_float_inputs_get_floats_even_from_json_integers(tmp_path: pathlib.Path) -> None:
    """An int given (or defaulted) for a float input arrives as a float, as in Cog."""
    predictor = load_predictor("schema_numbers.py", root=PREDICTORS)
    values = predictor.prepare_inputs(
        {"width": 64, "guidance": 7, "scales": [1, 2]}, workdir=tmp_path
    )
    assert values["guidance"] == 7.0 and type(values["guidance"]) is float
    assert type(values["ratio"]) is float  # the default, written as 1
    assert [type(s) for s in values["scales"]] == [float, float]
    assert type(values["width"]) is int


def test_secrets_are_wrapped_and_null_stays_none(tmp_path: pathlib.Path) -> None:
    """Secret inputs arrive as Secret objects; an omitted optional secret is None."""
    predictor = load_predictor("schema_secret.py", root=PREDICTORS)
    values = predictor.prepare_inputs({"token": "t0k", "password": "pw"}, workdir=tmp_path)
    assert values["token"] == Secret("t0k") and values["token"].get_secret_value() == "t0k"
    assert values["api_key"] is None and values["backup_key"] is None
    assert "t0k" not in repr(values)


def test_union_values_keep_their_json_type(tmp_path: pathlib.Path) -> None:
    """A union input receives the value as sent; an int for `int | float` stays an int."""
    predictor = load_predictor("schema_unions.py", root=PREDICTORS)
    values = predictor.prepare_inputs({"size": 512, "scale": 2}, workdir=tmp_path)
    assert values["size"] == 512 and type(values["scale"]) is int
    assert values["stops"] == "\n"


def test_objects_pass_through_unchanged(tmp_path: pathlib.Path) -> None:
    """dict, Any and Opaque inputs are handed over exactly as they arrived."""
    predictor = load_predictor("schema_objects.py", root=PREDICTORS)
    raw = {"options": {"a": [1, {"b": None}]}, "messages": [], "tensors": [{}], "anything": [{}]}
    values = predictor.prepare_inputs(raw, workdir=tmp_path)
    assert values == {**raw, "extra": None}


def test_unknown_inputs_never_reach_predict(tmp_path: pathlib.Path) -> None:
    """Fields the model doesn't declare are dropped before predict() is called."""
    predictor = load_predictor("schema_bool_out.py", root=PREDICTORS)
    assert predictor.prepare_inputs({"value": False, "extra": 1}, workdir=tmp_path) == {
        "value": False
    }
