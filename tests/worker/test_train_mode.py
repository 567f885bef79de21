"""A worker in train mode (`--mode train`): the training schema, train() per request, and
setup(weights) from COG_WEIGHTS."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

from foretell.core.events import Described, Done, Message

from .conftest import Worker

StartWorker = Callable[..., Worker]


def _done(process: Worker, prediction_id: str) -> Done:
    done = process.read_until(lambda m: isinstance(m, Done) and m.id == prediction_id)[-1]
    assert isinstance(done, Done)
    return done


def _described(message: Message) -> bool:
    return isinstance(message, Described)


def test_train_mode_describes_the_training_schema(
    worker: StartWorker, tmp_path: pathlib.Path
) -> None:
    """Described carries TrainingInput/TrainingOutput, not the predict schema."""
    process = worker("train_function.py:train", setup=False, mode="train")
    described = process.read_until(_described)[-1]
    assert isinstance(described, Described)
    schemas = described.schema["components"]["schemas"]
    assert "TrainingInput" in schemas and "Input" not in schemas
    assert "/trainings" in described.schema["paths"]


def test_train_mode_runs_train_and_sends_the_weights_as_a_file(
    worker: StartWorker, tmp_path: pathlib.Path
) -> None:
    """A request runs train(): its TrainingOutput arrives with `weights` as an output file."""
    process = worker("train_function.py:train", mode="train")
    process.predict("t1", tmp_path, text="hey", repeat=2)
    done = _done(process, "t1")
    assert done.status == "succeeded", done.error
    assert done.files == [["weights"]]
    weights = pathlib.Path(done.output["weights"])
    assert weights.read_text() == "heyhey"
    assert (tmp_path / "t1") in weights.parents  # copied into the request's output_dir


def test_train_mode_validates_training_input(worker: StartWorker, tmp_path: pathlib.Path) -> None:
    """A missing TrainingInput field fails the request with the field named."""
    process = worker("train_function.py:train", mode="train")
    process.predict("t2", tmp_path)
    done = _done(process, "t2")
    assert done.status == "failed"
    assert "text" in (done.error or "") and "required" in (done.error or "")


def test_setup_gets_cog_weights_from_the_environment(
    worker: StartWorker, tmp_path: pathlib.Path
) -> None:
    """Without weights in Setup, COG_WEIGHTS is used; a `Path` setup gets a Path."""
    weights = tmp_path / "greeting.txt"
    weights.write_text("Howdy")
    process = worker("trainable.py:Predictor", env={"COG_WEIGHTS": str(weights)})
    process.predict("p1", tmp_path, name="Ada")
    done = _done(process, "p1")
    assert done.output == "Howdy (Path) greets Ada"


def test_a_class_trains_with_its_setup_done(worker: StartWorker, tmp_path: pathlib.Path) -> None:
    """A class's train() runs after its setup(): here it builds on the weights it was given."""
    weights = tmp_path / "base.txt"
    weights.write_text("base v1")
    process = worker("trainable.py:Predictor", mode="train", env={"COG_WEIGHTS": str(weights)})
    process.predict("t3", tmp_path, greeting="Hello")
    done = _done(process, "t3")
    assert done.status == "succeeded", done.error
    assert pathlib.Path(done.output["weights"]).read_text() == "Hello, from base v1"
