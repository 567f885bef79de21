"""StreamHub: one append-only event log per prediction, shared by all of its readers.

Readers keep their own position in the log, so a slow reader never slows the model or other
readers. The log is bounded: past `max_events` the oldest events are dropped, and a reader
that needed them is told so (it can reconnect with Last-Event-ID and resume where the log
still starts). Logs of finished predictions are kept for `keep_finished_s`, and at most
`max_finished_events` events of them in all (the oldest finished go first, but none before
`min_keep_s`): memory stays bounded by size as well as age, few long-lived objects are left
for the garbage collector to scan, and evicting costs O(1) per prediction, however many
came before. A later reader gets the stored prediction replayed.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from foretell.streaming.bus import EVENT_NAMES, StreamEvent
from foretell.wakeups import Wakeups


@dataclass
class StreamLog:
    """The events of one prediction, in order."""

    max_events: int
    events: list[StreamEvent] = field(default_factory=list)
    #: seq of events[0]; grows as old events are dropped
    first_seq: int = 0
    finished_at: float | None = None
    #: readers waiting for the next event
    wakeups: Wakeups = field(default_factory=Wakeups)

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
        self.wakeups.wake_all()

    def wait(self, timeout: float) -> Coroutine[Any, Any, bool]:
        """Wait up to `timeout` seconds for the next event; whether one came."""
        return self.wakeups.wait(timeout)

    def since(self, seq: int) -> list[StreamEvent]:
        """Events with seq >= `seq` (raises LookupError if some were already dropped)."""
        if seq < self.first_seq:
            raise LookupError(seq)
        return self.events[seq - self.first_seq :]


class StreamHub:
    """Event logs of live and recently finished predictions."""

    def __init__(
        self,
        max_events: int = 100_000,
        keep_finished_s: float = 10.0,
        max_finished_events: int = 2_000,
        clock: Callable[[], float] = time.monotonic,
        min_keep_s: float = 2.0,
    ) -> None:
        self.clock = clock
        self.max_events = max_events
        self.keep_finished_s = keep_finished_s
        self.max_finished_events = max_finished_events
        #: however many there are, a finished log stays this long: its waiters and readers
        #: (woken by its `done`) get to read it
        self.min_keep_s = min_keep_s
        self._logs: dict[str, StreamLog] = {}
        #: finished predictions in the order they finished: id -> events held
        self._finished: collections.OrderedDict[str, int] = collections.OrderedDict()
        self._finished_events = 0

    def __len__(self) -> int:
        return len(self._logs)

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
        log = self.open(prediction_id)
        log.append(name, data, files)
        if name == "done" and prediction_id not in self._finished:
            log.finished_at = self.clock()
            self._finished[prediction_id] = len(log.events)
            self._finished_events += len(log.events)

    def _evict(self) -> None:
        """Drop the oldest finished logs while they are too old or too many: each log is
        looked at once, when it goes, so the cost doesn't grow with recent traffic."""
        now = self.clock()
        cutoff, young = now - self.keep_finished_s, now - self.min_keep_s
        while self._finished:
            pid, count = next(iter(self._finished.items()))
            log = self._logs.get(pid)
            finished = log.finished_at if log is not None else None
            stale = finished is None or finished < cutoff
            too_many = self._finished_events > self.max_finished_events
            if not stale and not (too_many and finished is not None and finished < young):
                return
            del self._finished[pid]
            self._finished_events -= count
            self._logs.pop(pid, None)
