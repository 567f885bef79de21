"""The worker's protocol, driven over its raw sockets: describe, setup, predict, cancel."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

from foretell.core.events import (
    Cancel,
    Described,
    Done,
    Log,
    Message,
    Output,
    Predict,
    Setup,
    SetupDone,
    Shutdown,
)

from .conftest import Worker

StartWorker = Callable[..., Worker]


def _done(prediction_id: str) -> Callable[[Message], bool]:
    return lambda m: isinstance(m, Done) and m.id == prediction_id


def _wait_done(process: Worker, prediction_id: str) -> Done:
    done = process.read_until(_done(prediction_id))[-1]
    assert isinstance(done, Done)
    return done


def test_described_comes_before_setup_and_setup_waits_for_it(
    worker: StartWorker, tmp_path: pathlib.Path
) -> None:
    """The worker describes the model after importing it, then runs setup() only on Setup."""
    process = worker("setup_weights", setup=False)
    described = process.read_until(lambda m: isinstance(m, Described))[-1]
    assert isinstance(described, Described) and described.is_async is False
    assert "Input" in described.schema["components"]["schemas"]
    process.send(Setup(weights="/weights"))
    assert process.read_until(lambda m: isinstance(m, SetupDone))[-1] == SetupDone(ok=True)
    process.predict("p1", tmp_path)
    assert _wait_done(process, "p1").output == "weights=/weights"


def test_failed_setup_answers_every_prediction_with_its_error(
    worker: StartWorker, tmp_path: pathlib.Path
) -> None:
    """After setup() raised, each Predict gets a failed Done naming the setup error."""
    process = worker("exc_in_setup", setup=False)
    process.read_until(lambda m: isinstance(m, Described))
    process.send(Setup())
    messages = process.read_until(lambda m: isinstance(m, SetupDone))
    setup_done = messages[-1]
    assert isinstance(setup_done, SetupDone) and not setup_done.ok
    assert "RuntimeError: weights not found" in (setup_done.error or "")
    assert any(
        isinstance(m, Log) and m.id is None and "loading weights" in m.text for m in messages
    )
    for prediction_id in ("p1", "p2"):
        process.predict(prediction_id, tmp_path)
        done = _wait_done(process, prediction_id)
        assert done.status == "failed"
        assert done.error == (
            "The model's setup() failed, so it can't run predictions: "
            "RuntimeError: weights not found"
        )


def test_late_and_repeated_cancels_never_hit_another_prediction(
    worker: StartWorker, tmp_path: pathlib.Path
) -> None:
    """A cancel of a finished prediction, and a repeated one, leave the next prediction alone."""
    process = worker("sleep")
    process.predict("first", tmp_path, seconds=30)
    process.read_until(lambda m: isinstance(m, Log) and "going to sleep" in m.text)
    process.cancel(Cancel("first"))
    process.cancel(Cancel("first"))
    assert _wait_done(process, "first").status == "canceled"
    process.cancel(Cancel("first"))  # late: the prediction is over
    process.predict("second", tmp_path, seconds=0.3)
    process.read_until(lambda m: isinstance(m, Log) and m.id == "second")
    process.cancel(Cancel("first"))  # late again, while "second" runs
    assert _wait_done(process, "second").status == "succeeded"


def test_cancel_that_overtakes_its_predict_cancels_it(
    worker: StartWorker, tmp_path: pathlib.Path
) -> None:
    """Cancels have their own socket; one read before its Predict still cancels it."""
    process = worker("sleep")
    process.predict("busy", tmp_path, seconds=0.3)
    process.read_until(lambda m: isinstance(m, Log) and m.id == "busy")
    process.predict("next", tmp_path, seconds=30)  # waits in the data socket meanwhile
    process.cancel(Cancel("next"))
    assert _wait_done(process, "busy").status == "succeeded"
    assert _wait_done(process, "next").status == "canceled"


def test_yielded_items_leave_in_order_before_done(
    worker: StartWorker, tmp_path: pathlib.Path
) -> None:
    """Every yielded item is an Output, in order, and Done comes after the last one."""
    process = worker("stream_tokens")
    process.predict("s", tmp_path, n=5000)
    messages = process.read_until(_done("s"))
    outputs = [m.value for m in messages if isinstance(m, Output)]
    assert outputs == [f"tok{i} " for i in range(5000)]
    assert isinstance(messages[-1], Done) and messages[-1].output is None


def test_nan_and_infinity_in_an_output_become_null(
    worker: StartWorker, tmp_path: pathlib.Path
) -> None:
    """Floats JSON can't carry are sent as null instead of breaking the channel."""
    process = worker("nan_output")
    process.predict("n", tmp_path)
    assert _wait_done(process, "n").output == [None, 1.5, None]


def test_shutdown_ends_the_process_cleanly(worker: StartWorker, tmp_path: pathlib.Path) -> None:
    """Shutdown after a prediction makes the worker exit with status 0."""
    process = worker("echo")
    process.send(Predict("p", {"text": "hi"}, str(tmp_path / "p")))
    process.read_until(_done("p"))
    process.send(Shutdown())
    assert process.process.wait(10) == 0


def test_closed_sockets_end_a_busy_worker(worker: StartWorker, tmp_path: pathlib.Path) -> None:
    """A worker whose runner went away exits even in the middle of a long prediction."""
    process = worker("sleep")
    process.predict("p", tmp_path, seconds=30)
    process.read_until(lambda m: isinstance(m, Log))
    process.control.close()
    assert process.process.wait(10) == 1


def test_a_cancel_sent_before_setup_finished_is_kept(
    worker: StartWorker, tmp_path: pathlib.Path
) -> None:
    """A Predict and its Cancel sent while setup() still runs end with a canceled Done."""
    process = worker("sleep", setup=False)
    process.read_until(lambda m: isinstance(m, Described))
    process.send(Setup())
    process.predict("early", tmp_path, seconds=30)
    process.cancel(Cancel("early"))
    assert _wait_done(process, "early").status == "canceled"
