"""The EventBus protocol, and its embedded engine over the StreamHub.

What crosses it: each prediction's events (output, logs, error, done) with their sequence
numbers, for SSE readers, `Prefer: wait` waiters and webhooks on any API node; and cancel
requests, for whichever runner holds the prediction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from foretell.core.prediction import Prediction
from foretell.core.status import Status, done_event

#: SSE event names the official clients accept; anything else breaks them.
EVENT_NAMES = ("output", "logs", "error", "done")


@dataclass(frozen=True)
class StreamEvent:
    """One event: `seq` is its SSE id; `data` is rendered into frames by the SSE route."""

    seq: int
    name: str
    data: Any
    #: for output events: locations of stored files inside `data`
    files: tuple[tuple[str | int, ...], ...] = ()


@dataclass(frozen=True)
class CancelRequest:
    """Someone asked for a prediction to stop; `reason` becomes its error, if given."""

    prediction_id: str
    reason: str | None = None


class EventsDropped(LookupError):
    """The reader asked for events the bus no longer keeps; it can resume from `first`."""

    def __init__(self, prediction_id: str, first: int) -> None:
        super().__init__(f"{prediction_id}: events before {first} were dropped")
        self.first = first


class EventBus(Protocol):
    """Per-prediction event logs with replay from any kept position; cancel requests."""

    async def publish(
        self,
        prediction_id: str,
        name: str,
        data: Any,
        files: tuple[tuple[str | int, ...], ...] = (),
    ) -> int:
        """Append an event; returns its sequence number (0, 1, 2… per prediction).
        `done` is the last event of a prediction."""

    async def read(self, prediction_id: str, position: int, wait_s: float) -> list[StreamEvent]:
        """Events with seq >= `position`, oldest first; if there are none yet, waits up to
        `wait_s` for the next ones (then [] — a keep-alive moment). EventsDropped if some of
        them are no longer kept. Never blocks the publisher."""

    async def has_events(self, prediction_id: str) -> bool:
        """Whether the bus still keeps events of the prediction (a finished prediction's
        are dropped after a while: its stored state tells the rest)."""

    async def request_cancel(self, request: CancelRequest) -> None:
        """Ask whoever runs (or will run) the prediction to cancel it."""

    def cancels(self) -> CancelSubscription:
        """Cancel requests made from now on (from this call, not from the first read), as
        they come; close the subscription when done."""


class CancelSubscription(Protocol):
    """Cancel requests as an async iterator."""

    def __aiter__(self) -> AsyncIterator[CancelRequest]: ...

    def close(self) -> None:
        """Stop receiving."""


def located(files: Iterable[Sequence[str | int]]) -> tuple[tuple[str | int, ...], ...]:
    """File locations as an event carries them (tuples, whatever they were read as)."""
    return tuple(tuple(location) for location in files)


async def publish_end(bus: EventBus, final: Prediction) -> None:
    """A finished prediction's last events: its whole output (unless it streamed it), its
    error, then `done`; whoever writes the end publishes them, after the write committed."""
    if final.status is Status.SUCCEEDED and not final.iterator and final.output is not None:
        await bus.publish(final.id, "output", final.output, located(final.output_files))
    if final.status is Status.FAILED:
        await bus.publish(final.id, "error", {"detail": final.error})
    await bus.publish(final.id, "done", done_event(final.status))
