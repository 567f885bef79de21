"""cog.yaml's `train:`: loading a train function or a class's train(), and its schema."""

from __future__ import annotations

import pathlib

import pytest

from foretell.predictor.config import load_config
from foretell.predictor.encode import encode_output
from foretell.predictor.errors import InvalidInput, PredictorLoadError
from foretell.predictor.load import load_predictor
from foretell.predictor.schema import merge_schemas
from foretell.predictor.validate import validate_input

PREDICTORS = pathlib.Path(__file__).parents[1] / "fixtures" / "predictors"


def test_config_reads_train(tmp_path: pathlib.Path) -> None:
    """`train:` is read as written; a model without it has none."""
    (tmp_path / "cog.yaml").write_text('predict: "predict.py:Predictor"\ntrain: "train.py:train"\n')
    assert load_config(tmp_path).train == "train.py:train"
    (tmp_path / "cog.yaml").write_text('predict: "predict.py:Predictor"\n')
    assert load_config(tmp_path).train is None


def test_config_refuses_a_train_that_is_not_a_string(tmp_path: pathlib.Path) -> None:
    """A clear message naming the key."""
    (tmp_path / "cog.yaml").write_text("train: [train.py]\n")
    with pytest.raises(PredictorLoadError, match="`train` must be a string"):
        load_config(tmp_path)


def test_a_train_function_describes_cogs_training_document() -> None:
    """Cog's generator in train mode: Training* components and the /trainings paths only."""
    trainer = load_predictor("train_function.py:train", root=PREDICTORS, mode="train")
    schemas = trainer.schema["components"]["schemas"]
    assert set(schemas) == {
        "TrainingInput",
        "TrainingOutput",
        "TrainingRequest",
        "TrainingResponse",
        "Status",
        "HTTPValidationError",
        "ValidationError",
    }
    assert schemas["TrainingInput"]["title"] == "TrainingInput"
    assert schemas["TrainingInput"]["required"] == ["text"]
    assert schemas["TrainingOutput"] == {
        "title": "Output",  # Cog's generator titles every output component so
        "type": "object",
        "properties": {"weights": {"type": "string", "format": "uri", "title": "Weights"}},
        "required": ["weights"],
    }
    assert schemas["TrainingRequest"]["properties"]["input"] == {
        "$ref": "#/components/schemas/TrainingInput"
    }
    assert schemas["TrainingResponse"]["properties"]["output"] == {
        "$ref": "#/components/schemas/TrainingOutput"
    }
    paths = trainer.schema["paths"]
    assert list(paths) == ["/", "/health-check", "/trainings", "/trainings/{training_id}/cancel"]
    post = paths["/trainings"]["post"]
    assert (post["summary"], post["operationId"]) == ("Train", "train_trainings_post")
    assert post["description"] == "Run a single training on the model"
    cancel = paths["/trainings/{training_id}/cancel"]["post"]
    assert cancel["operationId"] == "cancel_trainings__training_id__cancel_post"
    assert cancel["parameters"][0]["schema"] == {"title": "Training Id", "type": "string"}


def test_a_train_function_runs_and_its_weights_are_an_output_file(
    tmp_path: pathlib.Path,
) -> None:
    """train() returns TrainingOutput; encoding it copies the weights out, like any file."""
    trainer = load_predictor("train_function.py:train", root=PREDICTORS, mode="train")
    inputs = trainer.prepare_inputs({"text": "ab", "repeat": 3}, workdir=tmp_path)
    output, files = encode_output(trainer.call(inputs), files_dir=tmp_path / "out")
    assert files == [["weights"]]
    assert pathlib.Path(output["weights"]).read_text() == "ababab"


def test_validation_reads_training_input() -> None:
    """A trainer's document has no Input: its TrainingInput is what inputs are checked against."""
    trainer = load_predictor("train_function.py:train", root=PREDICTORS, mode="train")
    assert validate_input(trainer.schema, {"text": "x"}) == {"text": "x", "repeat": 1}
    with pytest.raises(InvalidInput) as caught:
        validate_input(trainer.schema, {"repeat": 11})
    assert {(e.field, e.message) for e in caught.value.errors} == {
        ("text", "required"),
        ("repeat", "must be <= 10 (got 11)"),
    }


def test_a_class_serves_both_modes() -> None:
    """One class: predict() in predict mode, train() in train mode, setup() for both."""
    predictor = load_predictor("trainable.py:Predictor", root=PREDICTORS)
    trainer = load_predictor("trainable.py:Predictor", root=PREDICTORS, mode="train")
    assert predictor.method.__name__ == "predict"
    assert trainer.method.__name__ == "train"
    assert "Input" in predictor.schema["components"]["schemas"]
    assert list(trainer.schema["components"]["schemas"]["TrainingInput"]["properties"]) == [
        "greeting"
    ]


def test_train_file_without_a_name_finds_its_train_function() -> None:
    """`train: train_function.py` means that file's `train` (else a `Trainer` class)."""
    trainer = load_predictor("train_function.py", root=PREDICTORS, mode="train")
    assert trainer.method.__name__ == "train"


def test_a_class_without_train_is_refused_in_train_mode() -> None:
    """The message says what is missing and where it is configured."""
    with pytest.raises(PredictorLoadError, match=r"defines no train\(\) \(cog.yaml's `train:`\)"):
        load_predictor("setup_weights.py:Predictor", root=PREDICTORS, mode="train")


def test_a_file_without_train_or_trainer_is_refused() -> None:
    """Neither a `train` function nor a `Trainer` class: named in the error."""
    with pytest.raises(PredictorLoadError, match="no `train` function or `Trainer` class"):
        load_predictor("setup_weights.py", root=PREDICTORS, mode="train")


def test_an_unknown_mode_is_refused() -> None:
    """Only predict and train exist."""
    with pytest.raises(PredictorLoadError, match="unknown mode 'serve'"):
        load_predictor("setup_weights.py", root=PREDICTORS, mode="serve")


def test_merge_schemas_keeps_predict_and_adds_training() -> None:
    """What Cog publishes for a trainable model: both sets of components and paths."""
    predict = load_predictor("trainable.py:Predictor", root=PREDICTORS).schema
    train = load_predictor("trainable.py:Predictor", root=PREDICTORS, mode="train").schema
    merged = merge_schemas(predict, train)
    schemas = merged["components"]["schemas"]
    assert {"Input", "Output", "TrainingInput", "TrainingOutput"} <= set(schemas)
    assert schemas["Input"] == predict["components"]["schemas"]["Input"]
    assert {"/predictions", "/trainings"} <= set(merged["paths"])
    assert validate_input(merged, {}) == {"name": "you"}  # predictions still read Input
