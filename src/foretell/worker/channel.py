"""The worker's end of the runner socket: batched sends from any thread, a command iterator."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator

from foretell.core.events import Message
from foretell.worker.wire import FrameDecoder, encode


class Channel:
    """Sends frames in order from any thread; a writer thread batches them under load.

    `send` queues a frame and wakes the writer thread, which writes everything queued so
    far in one syscall: one frame when the model is quiet, hundreds when it yields fast
    (the writer waits for the GIL while the model computes, so frames pile up meanwhile).
    `send_now` writes what is queued plus one frame from the calling thread at once: used
    for Done and the lifecycle messages, so ending a prediction costs no thread hop.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._pending: list[bytes] = []
        #: guards _pending and _signaled
        self._lock = threading.Lock()
        #: held while taking a batch and writing it, so batches leave in the order queued
        self._write = threading.Lock()
        #: a binary semaphore the writer sleeps on; released once per _signaled False->True
        self._wake = threading.Lock()
        self._wake.acquire()
        self._signaled = False
        self.closed = False
        threading.Thread(target=self._writer, name="channel-writer", daemon=True).start()

    def send(self, message: Message) -> None:
        """Queue one message; silently dropped once the runner has gone away."""
        frame = encode(message)
        with self._lock:
            self._pending.append(frame)
            if self._signaled:
                return
            self._signaled = True
        self._wake.release()

    def send_now(self, message: Message) -> None:
        """Write everything queued, then `message`, before returning."""
        self._flush(encode(message))

    def flush(self) -> None:
        """Write everything queued before returning (the process is about to exit)."""
        self._flush(None)

    def commands(self) -> Iterator[Message]:
        """Messages from the runner until it closes the socket."""
        decoder = FrameDecoder()
        while True:
            try:
                data = self._sock.recv(1 << 16)
            except OSError:
                return
            if not data:
                return
            yield from decoder.feed(data)

    def _writer(self) -> None:
        while True:
            self._wake.acquire()
            with self._lock:
                self._signaled = False
            self._flush(None)

    def _flush(self, last: bytes | None) -> None:
        with self._write:
            with self._lock:
                batch, self._pending = self._pending, []
            if last is not None:
                batch.append(last)
            if not batch or self.closed:
                return
            try:
                self._sock.sendall(batch[0] if len(batch) == 1 else b"".join(batch))
            except OSError:
                self.closed = True


def runner_gone() -> None:
    """The runner closed the socket without Shutdown: it died, and nobody wants results."""
    os._exit(1)
