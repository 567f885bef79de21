"""The per-prediction event log that SSE readers share."""

from __future__ import annotations

import asyncio

import pytest

from foretell.streaming.frames import frame
from foretell.streaming.hub import StreamHub


async def test_readers_replay_from_any_position() -> None:
    """A late reader gets every event from its position on; seqs are the SSE ids."""
    hub = StreamHub()
    for token in ("a", "b", "c"):
        hub.publish("p", "output", token)
    log = hub.open("p")
    assert [e.data for e in log.since(0)] == ["a", "b", "c"]
    assert [e.seq for e in log.since(2)] == [2]
    assert log.since(3) == []


async def test_bounded_log_tells_a_reader_that_fell_behind() -> None:
    """Past max_events the oldest are dropped; asking for them raises LookupError."""
    hub = StreamHub(max_events=10)
    for n in range(50):
        hub.publish("p", "output", str(n))
    log = hub.open("p")
    assert len(log.events) <= 11
    with pytest.raises(LookupError):
        log.since(0)
    assert log.since(log.first_seq)[-1].data == "49"


async def test_only_the_four_client_event_names() -> None:
    """Event names other than output, logs, error and done are refused."""
    with pytest.raises(ValueError, match="unknown SSE event"):
        StreamHub().publish("p", "ping", "")


async def test_a_waiting_reader_wakes_on_the_next_event_and_quiet_waits_leave_nothing() -> None:
    """wait() returns True when an event comes, False when its time is up; a reader that
    waits on a quiet stream for hours (timeouts, cancels) leaves no waiter behind."""
    log = StreamHub().open("p")
    for _ in range(100):
        assert await log.wait(0.0) is False
    reader = asyncio.create_task(log.wait(60))
    await asyncio.sleep(0)  # let it start waiting
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert len(log.wakeups) == 0
    woken = asyncio.create_task(log.wait(60))
    await asyncio.sleep(0)
    log.append("output", "a")
    assert await woken is True


def test_frames_keep_spaces_and_split_lines() -> None:
    """Each line of data is its own `data:` line, one space after the colon, with an id."""
    assert frame(3, "output", " two\nlines") == "event: output\nid: 3\ndata:  two\ndata: lines\n\n"


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _finish(hub: StreamHub, pid: str, events: int = 1) -> None:
    for i in range(events):
        hub.publish(pid, "logs", f"line {i}\n")
    hub.publish(pid, "done", {})


def test_finished_logs_go_after_keep_finished_s() -> None:
    """A finished prediction's stream is kept for keep_finished_s, then dropped."""
    clock = ManualClock()
    hub = StreamHub(keep_finished_s=600, clock=clock)
    _finish(hub, "old")
    clock.now += 599
    hub.open("new")
    assert hub.get("old") is not None
    clock.now += 2
    hub.open("newer")
    assert hub.get("old") is None
    assert hub.get("new") is not None  # still running: never evicted


def test_finished_logs_are_bounded_by_size() -> None:
    """Past max_finished_events the oldest finished streams go first, once min_keep_s has
    passed: a waiter woken by `done` still finds its log however busy the server is."""
    clock = ManualClock()
    hub = StreamHub(max_finished_events=25, clock=clock, min_keep_s=2)
    for pid in ("a", "b", "c"):
        _finish(hub, pid, events=9)  # 10 events each
    hub.open("d")
    assert hub.get("a") is not None  # too many, but just finished
    clock.now += 3
    hub.open("e")
    assert hub.get("a") is None
    assert hub.get("b") is not None and hub.get("c") is not None
