"""The worker's life: load the model, describe it, run setup() once, then serve predictions."""

from __future__ import annotations

import asyncio
import faulthandler
import inspect
import os
import pathlib
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Iterator

from foretell.core.events import (
    Cancel,
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
from foretell.predictor.weights import WEIGHTS_VARIABLE
from foretell.worker.async_server import AsyncServer
from foretell.worker.capture import LogCapture
from foretell.worker.channel import Channel, Inbox, runner_gone
from foretell.worker.sync_server import SyncServer


class _Serving:
    """The server once setup() has worked; cancels that come before it wait for it."""

    def __init__(self) -> None:
        self.server: SyncServer | AsyncServer | None = None
        self._early: list[str] = []
        self._lock = threading.Lock()

    def attach(self, server: SyncServer | AsyncServer) -> None:
        """Called once, before SetupDone leaves: from then on a Cancel may come any time."""
        with self._lock:
            self.server = server
        for prediction_id in self._early:
            server.cancel(prediction_id)

    def cancel(self, prediction_id: str) -> None:
        """Called by the control thread for each Cancel."""
        with self._lock:
            server = self.server
            if server is None:
                self._early.append(prediction_id)
                return
        server.cancel(prediction_id)

    def fd_owner(self) -> str | None:
        """Who fd-level output belongs to: the one prediction running, else nobody."""
        running = self.server.running() if self.server is not None else []
        return running[0] if len(running) == 1 else None


def serve(
    root: pathlib.Path,
    ref: str,
    fds: tuple[int, int],
    scratch: pathlib.Path,
    *,
    mode: str = "predict",
) -> int:
    """Run the worker on the runner's data and control sockets; returns the exit code.
    In `train` mode `ref` is cog.yaml's `train:` and each request runs train()."""
    data = socket.socket(fileno=fds[0])
    channel, commands = Channel(data), Inbox(data)
    serving = _Serving()
    # A crash report (faulthandler's traceback on SIGSEGV, SIGABRT, ...) goes to the stderr
    # the runner reads, not to the log pipes: those die with the process, unread.
    faulthandler.enable(os.fdopen(os.dup(2), "w"))
    capture = LogCapture(channel.send, serving.fd_owner, channel.sync)
    control = Inbox(socket.socket(fileno=fds[1]))
    threading.Thread(target=_control, args=(control, serving.cancel), daemon=True).start()
    try:
        return _serve(root, (ref, mode), channel, commands, capture, scratch, serving)
    except BaseException:
        # SystemExit from model code, or a bug of ours: say so in the worker log, then end
        traceback.print_exc()
        raise
    finally:
        capture.finish_prediction("")
        channel.flush()


def _control(control: Inbox, on_cancel: Callable[[str], None]) -> None:
    """The control thread: hands each Cancel on; the socket closing means the runner died."""
    for message in control:
        if isinstance(message, Cancel):
            on_cancel(message.id)
    runner_gone()


def _serve(
    root: pathlib.Path,
    target: tuple[str, str],
    channel: Channel,
    commands: Inbox,
    capture: LogCapture,
    scratch: pathlib.Path,
    serving: _Serving,
) -> int:
    try:
        predictor = load_predictor(target[0], root=root, mode=target[1])
    except PredictorLoadError as exc:
        capture.finish_prediction("")
        channel.send_now(LoadFailed(str(exc)))
        return 1
    channel.send_now(
        Described(predictor.schema, predictor.is_async, predictor.max_concurrency_hint)
    )
    messages = iter(commands)
    first = next(messages, None)
    if not isinstance(first, Setup):
        return 0
    loop = asyncio.new_event_loop() if predictor.is_async else None
    # the runner's weights, else COG_WEIGHTS as in Cog (`cog predict -e COG_WEIGHTS=...`)
    weights = first.weights or os.environ.get(WEIGHTS_VARIABLE) or None
    error = _setup(predictor, weights, scratch / "weights", loop)
    capture.finish_prediction("")
    if error is not None:
        channel.send_now(SetupDone(ok=False, error=error))
        _refuse_all(messages, channel, error)
        return 0
    server: SyncServer | AsyncServer
    if loop is not None:
        server = AsyncServer(predictor, channel, commands, capture, scratch, loop)
    else:
        server = SyncServer(predictor, channel, capture, scratch)
    serving.attach(server)
    channel.send_now(SetupDone(ok=True))
    if isinstance(server, AsyncServer):
        server.serve()
    else:
        server.serve(messages)
    return 0


def _setup(
    predictor: LoadedPredictor,
    weights: str | None,
    workdir: pathlib.Path,
    loop: asyncio.AbstractEventLoop | None,
) -> str | None:
    """Run setup(); None if it worked, else its traceback (also printed to the setup logs)."""
    try:
        result = predictor.setup(weights, workdir=workdir)
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
