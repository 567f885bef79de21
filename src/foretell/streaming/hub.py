"""StreamHub: one append-only event log per prediction, shared by all of its readers.

Readers keep their own position in the log, so a slow reader never slows the model or other
readers. The log is bounded: past `max_events` the oldest events are dropped, and a reader
that needed them is told so (it can reconnect with Last-Event-ID and resume where the log
still starts). Logs of finished predictions are kept for `keep_finished_s`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class StreamLog:
    """The events of one prediction, in order."""

    max_events: int
    events: list[StreamEvent] = field(default_factory=list)
    #: seq of events[0]; grows as old events are dropped
    first_seq: int = 0
    finished_at: float | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def next_seq(self) -> int:
        """The seq the next event will get."""
        return self.first_seq + len(self.events)

    def append(self, name: str, data: Any, files: tuple[tuple[str | int, ...], ...] = ()) -> None:
        if name not in EVENT_NAMES:
            raise ValueError(f"unknown SSE event {name!r}")
        self.events.append(StreamEvent(self.next_seq, name, data, files))
        excess = len(self.events) - self.max_events
        if excess > self.max_events // 10:  # trim in batches: amortised O(1) per event
            del self.events[:excess]
            self.first_seq += excess
        if name == "done":
            self.finished_at = time.monotonic()
        self.changed.set()
        self.changed = asyncio.Event()  # readers waiting on the old one wake up

    def since(self, seq: int) -> list[StreamEvent]:
        """Events with seq >= `seq` (raises LookupError if some were already dropped)."""
        if seq < self.first_seq:
            raise LookupError(seq)
        return self.events[seq - self.first_seq :]


class StreamHub:
    """Event logs of live and recently finished predictions."""

    def __init__(self, max_events: int = 100_000, keep_finished_s: float = 600.0) -> None:
        self.max_events = max_events
        self.keep_finished_s = keep_finished_s
        self._logs: dict[str, StreamLog] = {}

    def open(self, prediction_id: str) -> StreamLog:
        """The log of a prediction, created when it is first published to."""
        log = self._logs.get(prediction_id)
        if log is None:
            self._evict()  # on creation only: publishing a token must stay O(1)
            log = self._logs[prediction_id] = StreamLog(self.max_events)
        return log

    def get(self, prediction_id: str) -> StreamLog | None:
        """The log if it is still held."""
        return self._logs.get(prediction_id)

    def publish(
        self,
        prediction_id: str,
        name: str,
        data: Any,
        files: tuple[tuple[str | int, ...], ...] = (),
    ) -> None:
        """Append an event to a prediction's log."""
        self.open(prediction_id).append(name, data, files)

    def _evict(self) -> None:
        cutoff = time.monotonic() - self.keep_finished_s
        stale = [
            pid for pid, log in self._logs.items() if log.finished_at and log.finished_at < cutoff
        ]
        for pid in stale:
            del self._logs[pid]
