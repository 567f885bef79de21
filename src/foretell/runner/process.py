"""One worker subprocess: spawned with the model's Python, talked to over private sockets."""

from __future__ import annotations

import asyncio
import functools
import os
import pathlib
import signal
import socket
from collections.abc import Callable

import orjson

from foretell.core.events import Cancel, Message, Shutdown
from foretell.runner.spec import ModelSpec
from foretell.worker.tempfiles import SWEEP_VARIABLE
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
        self._control: asyncio.Transport | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.stderr_tail = b""
        #: frames for the data socket sent during this loop turn, written together at its end
        self._outgoing: list[bytes] = []

    @property
    def pid(self) -> int | None:
        """The process id, once started."""
        return self._process.pid if self._process else None

    async def start(self) -> None:
        """Spawn the worker (a fresh interpreter, never a fork of this process).

        It gets two sockets: the data socket carries everything but Cancel, which has the
        control socket to itself, so the worker's main thread can block on the data socket
        between predictions while another thread watches for cancels.
        """
        data, worker_data = socket.socketpair()
        control, worker_control = socket.socketpair()
        # A temp directory of its own, swept after predictions (see worker/tempfiles.py)
        tmp = self.scratch / f"tmp-{self.spec.name.replace('/', '-')}"
        tmp.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "TMPDIR": str(tmp),
            SWEEP_VARIABLE: str(tmp),
            **self.spec.env,  # a TMPDIR of the model's own wins (and is never swept)
            "PYTHONUNBUFFERED": "1",
        }
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
                str(worker_data.fileno()),
                "--control-fd",
                str(worker_control.fileno()),
                "--scratch",
                str(self.scratch),
                "--mode",
                self.spec.mode,
                pass_fds=(worker_data.fileno(), worker_control.fileno()),
                cwd=self.spec.root.resolve(),
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                # its own session: a Ctrl-C at the terminal is the runner's to handle (by
                # cancelling), not a KeyboardInterrupt inside the model
                start_new_session=True,
            )
        except BaseException:
            data.close()
            control.close()
            raise
        finally:
            worker_data.close()
            worker_control.close()
        loop = asyncio.get_running_loop()
        channel = _Channel(self._on_message, self.kill)
        self._transport, _ = await loop.create_unix_connection(lambda: channel, sock=data)
        self._control, _ = await loop.create_unix_connection(asyncio.Protocol, sock=control)
        stderr = asyncio.create_task(self._read_stderr())
        self._tasks = [stderr, asyncio.create_task(self._wait_exit(channel, stderr))]

    def send(self, message: Message) -> None:
        """Queue a message to the worker; dropped if it has gone. A Cancel goes at once; the
        rest at the end of this loop turn, in one write (one wake-up of the worker for the
        predictions dispatched together, not one each)."""
        if isinstance(message, Cancel):
            if self._control is not None and not self._control.is_closing():
                self._control.write(encode(message, _dumps))
            return
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._write_outgoing)
        self._outgoing.append(encode(message, _dumps))

    def _write_outgoing(self) -> None:
        frames, self._outgoing = self._outgoing, []
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(frames[0] if len(frames) == 1 else b"".join(frames))

    def kill(self) -> None:
        """SIGKILL the worker (its exit is then reported like any other)."""
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(signal.SIGKILL)

    async def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to finish, then kill it if it doesn't exit in time."""
        self.send(Shutdown())
        if self._process is None:
            return
        try:
            await asyncio.wait_for(self._process.wait(), timeout)
        except TimeoutError:
            self.kill()
            await self._process.wait()
        self._close_sockets()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _wait_exit(self, channel: _Channel, stderr: asyncio.Task[None]) -> None:
        await channel.closed
        assert self._process is not None
        code = await self._process.wait()
        self._close_sockets()
        # the stderr pipe closes with the process: its last words (a crash report) first
        await asyncio.wait([stderr], timeout=1.0)
        self._on_exit(self, code)

    def _close_sockets(self) -> None:
        # the control socket stays open until the worker has exited: its closing tells a
        # worker that the runner died (and it then exits at once)
        for transport in (self._transport, self._control):
            if transport is not None:
                transport.close()

    async def _read_stderr(self) -> None:
        """Keep the end of what the worker wrote to its real stderr: errors before its log
        capture took over, and crash reports."""
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
