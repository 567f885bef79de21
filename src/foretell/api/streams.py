"""GET urls.stream: a prediction's events as Server-Sent Events, with replay and resume."""

from __future__ import annotations

import copy
import os
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from foretell.api import render
from foretell.api.params import parse_count
from foretell.api.state import ApiState, api_state
from foretell.core.outputs import replace_at
from foretell.core.prediction import Prediction
from foretell.core.status import Status, done_event
from foretell.errors import NotFound
from foretell.metrics import Recorder
from foretell.queue.protocol import WorkQueue
from foretell.streaming.bus import EventsDropped, StreamEvent
from foretell.streaming.frames import KEEP_ALIVE, OPENING, frame

#: Seconds of silence before a `:` keep-alive comment (FORETELL_SSE_KEEPALIVE_S to change).
KEEP_ALIVE_S = float(os.environ.get("FORETELL_SSE_KEEPALIVE_S", "15"))
#: Seconds between looks at a waiting prediction's queue position.
QUEUE_NOTE_S = 1.0
_GONE = "This stream URL is invalid."


async def stream_prediction(request: Request) -> Response:
    """GET /v1/streams/{account}/{id}/{tag}."""
    state = api_state(request)
    account, prediction_id = request.path_params["account"], request.path_params["id"]
    if not state.signer.check_mac(
        render.stream_mac_text(account, prediction_id), request.path_params["tag"]
    ):
        raise NotFound(_GONE)
    start = _resume_from(request)
    stored = await state.store.get_prediction(account, prediction_id)
    if stored is None:
        raise NotFound(_GONE)
    replay = await _replay_if_dropped(state, stored)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        _counted(
            state.service.metrics, _events(request, state, account, prediction_id, start, replay)
        ),
        media_type="text/event-stream",
        headers=headers,
    )


async def _counted(metrics: Recorder, events: AsyncIterator[str]) -> AsyncIterator[str]:
    """The stream, counted as open from its first write until it ends or its reader leaves."""
    metrics.sse(1)
    try:
        async for chunk in events:
            yield chunk
    finally:
        metrics.sse(-1)


def _resume_from(request: Request) -> int:
    """Where a reconnecting reader resumes: after the event it names (header or query);
    -1 is the id of a queue note sent before any event: from the start."""
    header = request.headers.get("last-event-id", "").strip()
    name = "Last-Event-ID"
    if not header:
        header, name = request.query_params.get("last_event_id", "").strip(), "last_event_id"
    if not header or header == "-1":
        return 0
    return parse_count(header, name) + 1


def _replay(prediction: Prediction) -> list[StreamEvent]:
    """Events rebuilt from a stored prediction whose events the bus no longer keeps."""
    events: list[tuple[str, Any, tuple[tuple[str | int, ...], ...]]] = []
    items = prediction.output if prediction.iterator else [prediction.output]
    for index, item in enumerate(items or []):
        base = (index,) if prediction.iterator else ()
        files = tuple(
            tuple(loc[len(base) :])
            for loc in prediction.output_files
            if tuple(loc[: len(base)]) == base
        )
        if item is not None:
            events.append(("output", item, files))
    if prediction.logs:
        events.append(("logs", prediction.logs, ()))
    if prediction.status is Status.FAILED:
        events.append(("error", {"detail": prediction.error}, ()))
    events.append(("done", done_event(prediction.status), ()))
    return [StreamEvent(seq, name, data, files) for seq, (name, data, files) in enumerate(events)]


async def _events(
    request: Request,
    state: ApiState,
    account: str,
    prediction_id: str,
    position: int,
    replay: list[StreamEvent] | None,
) -> AsyncIterator[str]:
    yield OPENING
    bus = state.service.bus
    waiting = _QueueNotes(state.queue, prediction_id, replay is None)
    quiet_s = 0.0  # since the last write, for keep-alives while notes are checked often
    while True:
        if note := await waiting.note(position):
            yield note
            quiet_s = 0.0
        try:
            if replay is not None:
                events = [e for e in replay if e.seq >= position]
            else:
                events = await bus.read(prediction_id, position, waiting.wait_s)
        except EventsDropped as dropped:
            replay = await _replay_if_dropped(
                state, await state.store.get_prediction(account, prediction_id)
            )
            if replay is not None:  # it ended and the bus let go of it: the store has the rest
                continue
            detail = (
                "This reader fell behind and missed some events. "
                f"Reconnect with Last-Event-ID: {dropped.first - 1} to resume from the oldest kept."
            )
            yield frame(position, "error", orjson.dumps({"detail": detail}).decode())
            return
        if not events:
            if replay is not None:
                return
            quiet_s += waiting.wait_s
            if quiet_s < KEEP_ALIVE_S:  # a waiting prediction: its position is looked at
                continue
            replay = await _replay_if_dropped(
                state, await state.store.get_prediction(account, prediction_id)
            )
            if replay is None:
                yield KEEP_ALIVE
                quiet_s = 0.0
            continue
        # everything available goes out in one write
        yield "".join(frame(e.seq, e.name, _data(request, state, e)) for e in events)
        quiet_s = 0.0
        position = events[-1].seq + 1
        if events[-1].name == "done":
            return


class _QueueNotes:
    """While its prediction waits in the queue, a stream says how many go before it, as a
    `logs` event (the official clients take only output, logs, error and done, and Python
    client 1.x merges an event without an id into the next one). The note's id is the last
    event's before it (-1 before any), so resuming from it misses nothing and repeats
    nothing; it is not kept: a reader that resumes gets a fresh one if it still waits."""

    def __init__(self, queue: WorkQueue, prediction_id: str, live: bool) -> None:
        self.queue, self.prediction_id = queue, prediction_id
        #: until the queue says it doesn't wait (claimed, canceled, or never queued)
        self.waiting = live
        self.shown: int | None = None

    @property
    def wait_s(self) -> float:
        """How long a read waits for events before the position is looked at again."""
        return min(QUEUE_NOTE_S, KEEP_ALIVE_S) if self.waiting else KEEP_ALIVE_S

    async def note(self, position: int) -> str:
        """A note if the position changed since the last one (else "")."""
        if not self.waiting:
            return ""
        ahead = await self.queue.position(self.prediction_id)
        if ahead is None:
            self.waiting = False
            return ""
        if ahead == self.shown:
            return ""
        self.shown = ahead
        return frame(position - 1, "logs", render.waiting_line(ahead))


async def _replay_if_dropped(
    state: ApiState, stored: Prediction | None
) -> list[StreamEvent] | None:
    """The events of a prediction that ended and whose events the bus let go of (it ended
    long ago, or a reader is slower than the bus keeps finished logs), rebuilt from the
    stored prediction; None while the bus has them or the prediction runs."""
    if stored is None or not stored.status.is_terminal:
        return None
    if await state.service.bus.has_events(stored.id):
        return None
    return _replay(stored)


def _data(request: Request, state: ApiState, event: StreamEvent) -> str:
    data: Any = event.data
    if event.files:
        data = copy.deepcopy(data)
        for location in event.files:
            data = replace_at(
                data, location, lambda key: render.file_url(render.base_url(request), state, key)
            )
    if isinstance(data, str):
        return data
    return orjson.dumps(data).decode()
