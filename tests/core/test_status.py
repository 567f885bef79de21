"""The prediction state machine."""

from __future__ import annotations

import itertools

import pytest

from foretell.core.status import InvalidTransition, Status, can_transition, transition

TERMINAL = {Status.SUCCEEDED, Status.FAILED, Status.CANCELED}


def test_status_values_are_replicates_wire_strings() -> None:
    """Each status serialises to the exact string Replicate's API uses."""
    assert [s.value for s in Status] == [
        "starting",
        "processing",
        "succeeded",
        "failed",
        "canceled",
    ]


@pytest.mark.parametrize(("current", "target"), list(itertools.product(Status, Status)))
def test_every_transition_is_decided(current: Status, target: Status) -> None:
    """Only forward moves are legal, and nothing leaves a terminal status."""
    order = list(Status)
    expected = not current.is_terminal and (
        target in TERMINAL or order.index(target) >= order.index(current)
    )
    assert can_transition(current, target) is expected
    if expected:
        assert transition(current, target) is target
    else:
        with pytest.raises(InvalidTransition, match="can't go from"):
            transition(current, target)
