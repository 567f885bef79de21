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
from foretell.streaming.bus import EventsDropped, StreamEvent
from foretell.streaming.frames import KEEP_ALIVE, OPENING, frame

#: Seconds of silence before a `:` keep-alive comment (FORETELL_SSE_KEEPALIVE_S to change).
KEEP_ALIVE_S = float(os.environ.get("FORETELL_SSE_KEEPALIVE_S", "15"))
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
    """Where a reconnecting reader resumes: after the event it names (header or query)."""
    header = request.headers.get("last-event-id", "").strip()
    if header:
        return parse_count(header, "Last-Event-ID") + 1
    query = request.query_params.get("last_event_id", "").strip()
    return parse_count(query, "last_event_id") + 1 if query else 0


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
    while True:
        try:
            if replay is not None:
                events = [e for e in replay if e.seq >= position]
            else:
                events = await bus.read(prediction_id, position, KEEP_ALIVE_S)
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
            replay = await _replay_if_dropped(
                state, await state.store.get_prediction(account, prediction_id)
            )
            if replay is None:
                yield KEEP_ALIVE
            continue
        # everything available goes out in one write
        yield "".join(frame(e.seq, e.name, _data(request, state, e)) for e in events)
        position = events[-1].seq + 1
        if events[-1].name == "done":
            return


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
