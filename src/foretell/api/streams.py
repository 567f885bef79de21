"""GET urls.stream: a prediction's events as Server-Sent Events, with replay and resume."""

from __future__ import annotations

import asyncio
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
from foretell.streaming import StreamEvent, StreamLog
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
    log = state.hub.get(prediction_id)
    if log is None:
        live = state.dispatcher.get(prediction_id)
        log = (
            state.hub.open(prediction_id)
            if live or not stored.status.is_terminal
            else _replay(state, stored)
        )
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        _events(request, state, log, start), media_type="text/event-stream", headers=headers
    )


def _resume_from(request: Request) -> int:
    """Where a reconnecting reader resumes: after the event it names (header or query)."""
    header = request.headers.get("last-event-id", "").strip()
    if header:
        return parse_count(header, "Last-Event-ID") + 1
    query = request.query_params.get("last_event_id", "").strip()
    return parse_count(query, "last_event_id") + 1 if query else 0


def _replay(state: ApiState, prediction: Prediction) -> StreamLog:
    """Events rebuilt from a stored prediction whose live log has been dropped."""
    log = StreamLog(max_events=state.hub.max_events)
    items = prediction.output if prediction.iterator else [prediction.output]
    for index, item in enumerate(items or []):
        base = (index,) if prediction.iterator else ()
        files = tuple(
            tuple(loc[len(base) :])
            for loc in prediction.output_files
            if tuple(loc[: len(base)]) == base
        )
        if item is not None:
            log.append("output", item, files)
    if prediction.logs:
        log.append("logs", prediction.logs)
    if prediction.status is Status.FAILED:
        log.append("error", {"detail": prediction.error})
    log.append("done", done_event(prediction.status))
    return log


async def _events(
    request: Request, state: ApiState, log: StreamLog, position: int
) -> AsyncIterator[str]:
    yield OPENING
    while True:
        waiter = log.changed
        try:
            events = log.since(position)
        except LookupError:
            detail = (
                f"This reader fell more than {log.max_events} events behind and missed some. "
                f"Reconnect with Last-Event-ID: {log.first_seq - 1} to resume from the oldest kept."
            )
            yield frame(position, "error", orjson.dumps({"detail": detail}).decode())
            return
        if events:  # everything available goes out in one write
            yield "".join(frame(e.seq, e.name, _data(request, state, e)) for e in events)
            position = events[-1].seq + 1
            if events[-1].name == "done":
                return
        try:
            await asyncio.wait_for(waiter.wait(), KEEP_ALIVE_S)
        except TimeoutError:
            yield KEEP_ALIVE


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
