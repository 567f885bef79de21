"""Log capture: fds 1 and 2 through pipes, Python-level writes routed by a ContextVar."""

# Python-level writes (`print`, `logging`, `sys.stderr.write`) made while a prediction is
# current in this thread or asyncio task go straight to that prediction, line by line.
# Everything else written to fds 1 and 2 (C extensions, child processes, `os.write`, threads
# the model started) is read by one thread per fd and given to the one prediction running,
# or to the worker log (Log with id None) when none or several are running: bytes on an fd
# carry no owner, so with concurrent async predictions they can't be told apart.

from __future__ import annotations

import contextvars
import io
import os
import select
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from foretell.core.events import Log

Emit = Callable[[Log], None]
Owner = Callable[[], str | None]
Flush = Callable[[], None]

#: The prediction whose Python-level output this thread or task produces.
current_prediction: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_prediction", default=None
)

#: An unfinished line (a progress bar's "\r 42%") is sent once its fd is quiet this long.
PARTIAL_LINE_MS = 50


class PredictionStream(io.TextIOBase):
    """Replaces sys.stdout/sys.stderr: routes text to the current prediction, line by line."""

    def __init__(self, name: str, fallback: TextIO, emit: Emit, sync: Flush) -> None:
        self.stream_name = name
        self._fallback = fallback
        self._emit = emit
        self._sync = sync
        self._partial: dict[str, str] = {}
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        owner = current_prediction.get()
        if owner is None:
            return self._fallback.write(text)
        with self._lock:
            pending = self._partial.pop(owner, "") + text
            cut = pending.rfind("\n") + 1
            if cut < len(pending):
                self._partial[owner] = pending[cut:]
        if cut:
            self._emit(Log(owner, self.stream_name, pending[:cut]))
        return len(text)

    def flush(self) -> None:
        """Send the current prediction's output now, unfinished line included, before
        returning: what print(flush=True) or a logging handler flushed survives a crash."""
        owner = current_prediction.get()
        if owner is not None:
            self.flush_prediction(owner)
            self._sync()
        self._fallback.flush()

    def flush_fallback(self) -> None:
        """Flush the original stream (what threads without a prediction wrote to it)."""
        self._fallback.flush()

    def flush_prediction(self, owner: str) -> None:
        """Send what is left of a prediction's last unfinished line."""
        with self._lock:
            rest = self._partial.pop(owner, "")
        if rest:
            self._emit(Log(owner, self.stream_name, rest))

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def fileno(self) -> int:
        return self._fallback.fileno()


class FdPump:
    """Reads one fd's pipe in a thread and turns its bytes into Log messages."""

    def __init__(self, fd: int, name: str, owner: Owner, emit: Emit) -> None:
        read_end, write_end = os.pipe()
        os.dup2(write_end, fd)
        os.close(write_end)
        self.read_end = read_end
        self._name = name
        self._owner = owner
        self._emit = emit
        self._busy = False
        self._partial = b""
        self._synced = threading.Condition()
        self._sync_token = b"\x00foretell-sync-" + os.urandom(8).hex().encode() + b"\x00"
        self._syncs_sent = 0
        self._syncs_seen = 0
        self._fd = fd
        threading.Thread(target=self._run, name=f"capture-{name}", daemon=True).start()

    def _run(self) -> None:
        poller = select.poll()
        poller.register(self.read_end, select.POLLIN)
        while True:
            if not poller.poll(PARTIAL_LINE_MS if self._partial else None):
                self._flush_partial()
                continue
            self._busy = True
            data = os.read(self.read_end, 1 << 16)
            if not data:
                return
            syncs = data.count(self._sync_token)
            if syncs:
                data = data.replace(self._sync_token, b"")
            self._handle(data, flush_partial=bool(syncs))
            with self._synced:
                self._busy = False
                self._syncs_seen += syncs
                if syncs:
                    self._synced.notify_all()

    def _handle(self, data: bytes, *, flush_partial: bool) -> None:
        data = self._partial + data
        cut = len(data) if flush_partial else data.rfind(b"\n") + 1
        self._partial = data[cut:]
        if cut:
            self._emit(Log(self._owner(), self._name, data[:cut].decode(errors="replace")))

    def _flush_partial(self) -> None:
        if self._partial:
            self._handle(b"", flush_partial=True)

    def drain(self, unread: bool) -> None:
        """Wait until everything written to the fd so far has been sent as Log messages.

        `unread`: the pipe holds bytes this thread hasn't read yet (the caller polled it).
        """
        if not unread and not self._busy and not self._partial:
            return
        with self._synced:
            self._syncs_sent += 1
            target = self._syncs_sent
            os.write(self._fd, self._sync_token)
            # Counted, so a late token of an earlier drain can't end this wait early.
            self._synced.wait_for(lambda: self._syncs_seen >= target, timeout=10.0)


class LogCapture:
    """Installs both capture layers for the worker's lifetime."""

    def __init__(self, emit: Emit, owner: Owner, sync: Flush) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self.pumps = [FdPump(1, "stdout", owner, emit), FdPump(2, "stderr", owner, emit)]
        self._unread = select.poll()
        for pump in self.pumps:
            self._unread.register(pump.read_end, select.POLLIN)
        self.streams = [
            PredictionStream("stdout", sys.stdout, emit, sync),
            PredictionStream("stderr", sys.stderr, emit, sync),
        ]
        sys.stdout, sys.stderr = self.streams

    def finish_prediction(self, prediction_id: str) -> None:
        """Flush every buffered byte of a prediction's output before it is reported done."""
        for stream in self.streams:
            stream.flush_prediction(prediction_id)
            stream.flush_fallback()
        # One poll finds which pipes hold unread bytes (usually none): a syscall per
        # prediction instead of one per pipe.
        unread = {fd for fd, _ in self._unread.poll(0)}
        for pump in self.pumps:
            pump.drain(pump.read_end in unread)
