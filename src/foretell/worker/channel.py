"""The worker's end of the runner socket: batched sends from any thread, a command iterator."""

from __future__ import annotations

import collections
import os
import select
import socket
import threading
from collections.abc import Iterator

from foretell.core.events import Message
from foretell.worker.wire import FrameDecoder, encode

#: How long a queued Started may wait for the prediction's Done to leave with it. A quick
#: prediction then costs the runner one wake-up instead of two; a slow one's Started is late
#: by this much at most.
LINGER_S = 0.001


class Channel:
    """Sends frames in order from any thread; a writer thread batches them under load.

    `send` queues a frame and wakes the writer thread, which writes everything queued so
    far in one syscall: one frame when the model is quiet, hundreds when it yields fast
    (the writer waits for the GIL while the model computes, so frames pile up meanwhile).
    `send_now` writes what is queued plus one frame from the calling thread at once: used
    for Done and the lifecycle messages, so ending a prediction costs no thread hop. `queue`
    adds a frame without waking anyone: it leaves with the next send or flush.
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
        self._decoder = FrameDecoder()
        #: commands decoded but not yet taken
        self._inbox: collections.deque[Message] = collections.deque()
        #: set by the reader: wait up to LINGER_S for input before the next blocking read,
        #: then flush what is queued (a Started that no Done has taken along)
        self.flush_before_read = False
        self._poll = select.poll()
        self._poll.register(sock, select.POLLIN)
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

    def queue(self, message: Message) -> None:
        """Queue one message without waking the writer; see `flush_before_read`."""
        frame = encode(message)
        with self._lock:
            self._pending.append(frame)

    def send_now(self, message: Message) -> None:
        """Write everything queued, then `message`, before returning."""
        self._flush(encode(message))

    def flush(self) -> None:
        """Write everything queued before returning (the process is about to exit)."""
        self._flush(None)

    def commands(self) -> Iterator[Message]:
        """Messages from the runner until it closes the socket (blocking reads)."""
        while True:
            while self._inbox:
                yield self._inbox.popleft()
            if self.flush_before_read:
                self.flush_before_read = False
                if not self._poll.poll(LINGER_S * 1000):
                    self.flush()
            try:
                data = self._sock.recv(1 << 16)
            except OSError:
                return
            if not data:
                return
            self._inbox.extend(self._decoder.feed(data))

    def take_commands(self) -> list[Message] | None:
        """Non-blocking: commands available now (maybe none); None once the runner has gone."""
        messages = list(self._inbox)
        self._inbox.clear()
        try:
            data = self._sock.recv(1 << 16, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return messages
        except OSError:
            return None
        if not data:
            return None
        messages += self._decoder.feed(data)
        return messages

    def fileno(self) -> int:
        """The socket's fd, for an event loop to watch."""
        return self._sock.fileno()

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
