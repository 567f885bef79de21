"""The worker's life: load the model, describe it, run setup() once, then serve predictions."""

from __future__ import annotations

import asyncio
import inspect
import pathlib
import socket
import sys
import traceback
from collections.abc import Iterator

from foretell.core.events import (
    Described,
    Done,
    LoadFailed,
    Message,
    Predict,
    Setup,
    SetupDone,
    Shutdown,
)
from foretell.predictor.errors import PredictorLoadError
from foretell.predictor.load import LoadedPredictor, load_predictor
from foretell.worker.async_server import AsyncServer
from foretell.worker.capture import LogCapture
from foretell.worker.channel import Channel
from foretell.worker.sync_server import SyncServer


def serve(root: pathlib.Path, ref: str, fd: int, scratch: pathlib.Path) -> int:
    """Run the worker on the runner's socket `fd`; returns the process exit code."""
    channel = Channel(socket.socket(fileno=fd))
    servers: list[SyncServer | AsyncServer] = []

    def fd_owner() -> str | None:
        running = servers[0].running() if servers else []
        return running[0] if len(running) == 1 else None

    capture = LogCapture(channel.send, fd_owner)
    try:
        return _serve(root, ref, channel, capture, scratch, servers)
    except BaseException:
        # SystemExit from model code, or a bug of ours: say so in the worker log, then end
        traceback.print_exc()
        raise
    finally:
        capture.finish_prediction("")
        channel.flush()


def _serve(
    root: pathlib.Path,
    ref: str,
    channel: Channel,
    capture: LogCapture,
    scratch: pathlib.Path,
    servers: list[SyncServer | AsyncServer],
) -> int:
    try:
        predictor = load_predictor(ref, root=root)
    except PredictorLoadError as exc:
        capture.finish_prediction("")
        channel.send_now(LoadFailed(str(exc)))
        return 1
    channel.send_now(
        Described(predictor.schema, predictor.is_async, predictor.max_concurrency_hint)
    )
    commands = channel.commands()
    first = next(commands, None)
    if not isinstance(first, Setup):
        return 0
    loop = asyncio.new_event_loop() if predictor.is_async else None
    error = _setup(predictor, first.weights, loop)
    capture.finish_prediction("")
    channel.send_now(SetupDone(ok=error is None, error=error))
    if error is not None:
        _refuse_all(commands, channel, error)
        return 0
    if loop is not None:
        async_server = AsyncServer(predictor, channel, capture, scratch, loop)
        servers.append(async_server)
        async_server.serve()
    else:
        sync_server = SyncServer(predictor, channel, capture, scratch)
        servers.append(sync_server)
        sync_server.serve(commands)
    return 0


def _setup(
    predictor: LoadedPredictor, weights: str | None, loop: asyncio.AbstractEventLoop | None
) -> str | None:
    """Run setup(); None if it worked, else its traceback (also printed to the setup logs)."""
    try:
        result = predictor.setup(weights)
        if inspect.isawaitable(result):
            if loop is None:
                asyncio.run(_awaited(result))
            else:
                loop.run_until_complete(_awaited(result))
    except Exception:
        trace = traceback.format_exc()
        sys.stderr.write(trace)
        return trace
    return None


async def _awaited(awaitable: object) -> None:
    await awaitable  # type: ignore[misc]


def _refuse_all(commands: Iterator[Message], channel: Channel, error: str) -> None:
    """After a failed setup, every prediction fails with the setup error."""
    last_line = error.strip().splitlines()[-1] if error.strip() else "setup() failed"
    for message in commands:
        if isinstance(message, Shutdown):
            return
        if isinstance(message, Predict):
            reason = f"The model's setup() failed, so it can't run predictions: {last_line}"
            channel.send_now(Done(message.id, "failed", error=reason))
