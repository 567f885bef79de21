"""The runner<->worker message schema: every message survives its JSON form."""

from __future__ import annotations

import pytest

from foretell.core.events import (
    DONE_STATUSES,
    Cancel,
    Described,
    Done,
    LoadFailed,
    Log,
    Message,
    Metric,
    Output,
    Predict,
    Setup,
    SetupDone,
    Shutdown,
    Started,
    from_json,
    to_json,
)
from foretell.core.status import Status

EXAMPLES: list[Message] = [
    Setup(weights="https://example.com/w.bin"),
    Predict("p1", {"text": "hi", "n": [1, 2]}, "/out/p1", True, {"who": "me"}, {"u": "/f"}),
    Cancel("p1"),
    Shutdown(),
    Described({"openapi": "3.0.2"}, is_async=True, max_concurrency_hint=4),
    LoadFailed("predict.py: no class Predictor"),
    SetupDone(ok=False, error="Traceback ...\nRuntimeError: boom"),
    Started("p1"),
    Log(None, "stderr", "setting up\n"),
    Output("p1", {"image": "/out/p1/a.png"}, [["image"]]),
    Metric("p1", "timing.model", 0.25, "replace"),
    Done("p1", "succeeded", "hi", [], None, {"predict_time": 0.001}),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_every_message_round_trips_through_its_json_form(message: Message) -> None:
    """from_json(to_json(m)) == m, and the JSON names the message type in "t"."""
    data = to_json(message)
    assert data["t"] == type(message).__name__
    assert from_json(dict(data)) == message


def test_an_unknown_or_malformed_message_is_a_value_error() -> None:
    """Unknown types and unexpected fields raise ValueError, never TypeError or KeyError."""
    with pytest.raises(ValueError, match="unknown message type"):
        from_json({"t": "Reboot"})
    with pytest.raises(ValueError, match="bad Cancel message"):
        from_json({"t": "Cancel", "id": "p1", "why": "bored"})


def test_done_statuses_are_replicates_terminal_statuses() -> None:
    """Done's statuses are exactly the terminal wire strings of the prediction state machine."""
    assert set(DONE_STATUSES) == {s.value for s in Status if s.is_terminal}
    with pytest.raises(ValueError, match="Done.status"):
        Done("p1", "processing")


def test_done_exposes_predict_time() -> None:
    """Done.predict_time reads the worker's measurement from the metrics."""
    assert Done("p1", "failed", metrics={"predict_time": 1.5}).predict_time == 1.5
    assert Done("p1", "canceled").predict_time is None
