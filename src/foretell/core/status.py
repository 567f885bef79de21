"""The prediction state machine: one place decides every status change."""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    """A prediction's status; values are Replicate's wire strings."""

    #: queued, or waiting for its model to finish setup
    STARTING = "starting"
    #: predict() is running
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        """Terminal statuses never change again."""
        return self in _TERMINAL


_TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED})

#: the states a prediction can still leave
OPEN = (Status.STARTING, Status.PROCESSING)

#: the error of a prediction canceled by its Cancel-After / lifetime deadline
EXPIRED_ERROR = "Prediction canceled: it ran past its Cancel-After deadline."
#: the same, for one that had not started: it waited in the queue, or for its model
EXPIRED_QUEUED_ERROR = (
    "Prediction canceled: its Cancel-After deadline passed before it started (it was still "
    "queued, or its model was still starting)."
)
#: the error of a prediction whose runner stopped while running it
ORPHANED_ERROR = (
    "The runner that was running this prediction stopped (its lease expired), so it was "
    "not finished; run it again."
)

_ALLOWED: dict[Status, frozenset[Status]] = {
    Status.STARTING: frozenset({Status.PROCESSING, *_TERMINAL}),
    Status.PROCESSING: _TERMINAL,
    Status.SUCCEEDED: frozenset(),
    Status.FAILED: frozenset(),
    Status.CANCELED: frozenset(),
}


class InvalidTransition(ValueError):
    """A status change the state machine forbids, e.g. out of a terminal status."""

    def __init__(self, current: Status, target: Status) -> None:
        super().__init__(f"a prediction can't go from {current.value} to {target.value}")
        self.current = current
        self.target = target


def can_transition(current: Status, target: Status) -> bool:
    """Whether `current -> target` is a legal move (staying in a non-terminal status is)."""
    return target in _ALLOWED[current] or (current == target and not current.is_terminal)


def transition(current: Status, target: Status) -> Status:
    """Return `target` if the move is legal, else raise InvalidTransition."""
    if not can_transition(current, target):
        raise InvalidTransition(current, target)
    return target


def done_event(status: Status) -> dict[str, str]:
    """The data of the SSE `done` event that ends a stream in `status`: `{}` on success,
    else `{"reason": "canceled" | "error"}` (Replicate's words)."""
    reason = {Status.CANCELED: "canceled", Status.FAILED: "error"}.get(status)
    return {"reason": reason} if reason else {}
