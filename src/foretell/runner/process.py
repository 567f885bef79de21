"""One worker subprocess: spawned with the model's Python, talked to over a private socket."""

from __future__ import annotations

import asyncio
import functools
import os
import pathlib
import signal
import socket
from collections.abc import Callable

import orjson

from foretell.core.events import Message, Shutdown
from foretell.runner.spec import ModelSpec
from foretell.worker.wire import FrameDecoder, encode

_STDERR_TAIL = 4000
_dumps = functools.partial(orjson.dumps, default=str)


class WorkerProcess:
    """Starts `python -m foretell.worker`, decodes its messages, reports how it ended."""

    def __init__(
        self,
        spec: ModelSpec,
        scratch: pathlib.Path,
        on_message: Callable[[Message], None],
        on_exit: Callable[[WorkerProcess, int], None],
    ) -> None:
        self.spec = spec
        self.scratch = scratch
        self._on_message = on_message
        self._on_exit = on_exit
        self._process: asyncio.subprocess.Process | None = None
        self._transport: asyncio.Transport | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.stderr_tail = b""

    @property
    def pid(self) -> int | None:
        """The process id, once started."""
        return self._process.pid if self._process else None

    async def start(self) -> None:
        """Spawn the worker (a fresh interpreter, never a fork of this process)."""
        parent, child = socket.socketpair()
        env = {**os.environ, **self.spec.env, "PYTHONUNBUFFERED": "1"}
        try:
            self._process = await asyncio.create_subprocess_exec(
                self.spec.python,
                "-m",
                "foretell.worker",
                "--root",
                str(self.spec.root.resolve()),
                "--ref",
                self.spec.ref,
                "--fd",
                str(child.fileno()),
                "--scratch",
                str(self.scratch),
                pass_fds=(child.fileno(),),
                cwd=self.spec.root.resolve(),
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                # its own session: a Ctrl-C at the terminal is the runner's to handle (by
                # cancelling), not a KeyboardInterrupt inside the model
                start_new_session=True,
            )
        finally:
            child.close()
        loop = asyncio.get_running_loop()
        channel = _Channel(self._on_message, self.kill)
        transport, _ = await loop.create_unix_connection(lambda: channel, sock=parent)
        self._transport = transport
        self._tasks = [
            asyncio.create_task(self._wait_exit(channel)),
            asyncio.create_task(self._read_stderr()),
        ]

    def send(self, message: Message) -> None:
        """Queue a message to the worker; dropped if it has gone."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(encode(message, _dumps))

    def kill(self) -> None:
        """SIGKILL the worker (its exit is then reported like any other)."""
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(signal.SIGKILL)

    async def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to finish, then kill it if it doesn't exit in time."""
        self.send(Shutdown())
        if self._transport is not None:
            self._transport.close()
        if self._process is None:
            return
        try:
            await asyncio.wait_for(self._process.wait(), timeout)
        except TimeoutError:
            self.kill()
            await self._process.wait()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _wait_exit(self, channel: _Channel) -> None:
        await channel.closed
        assert self._process is not None
        code = await self._process.wait()
        if self._transport is not None:
            self._transport.close()
        self._on_exit(self, code)

    async def _read_stderr(self) -> None:
        """Keep the end of what the worker printed before its own capture took over."""
        assert self._process is not None and self._process.stderr is not None
        while chunk := await self._process.stderr.read(1 << 14):
            self.stderr_tail = (self.stderr_tail + chunk)[-_STDERR_TAIL:]


def describe_exit(code: int) -> str:
    """`exit code 3` or `signal 9: SIGKILL, possibly out of memory`."""
    if code >= 0:
        return f"exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = "unknown signal"
    hint = ", possibly out of memory" if -code == signal.SIGKILL else ""
    return f"signal {-code}: {name}{hint}"


class _Channel(asyncio.Protocol):
    """Decodes the worker's frames as they arrive, with no task hop per read."""

    def __init__(self, on_message: Callable[[Message], None], on_garbage: Callable[[], None]):
        self._decoder = FrameDecoder(orjson.loads)
        self._on_message = on_message
        self._on_garbage = on_garbage
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        try:
            messages = self._decoder.feed(data)
        except ValueError:
            self._on_garbage()  # a garbled channel: the worker can't be trusted any more
            return
        for message in messages:
            self._on_message(message)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
