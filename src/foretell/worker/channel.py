"""The worker's end of the runner socket: batched sends from any thread, a command iterator."""

from __future__ import annotations

import collections
import os
import queue
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
        # `send` runs in model code, where a cancel signal may raise between any two
        # bytecodes, so it only makes two atomic calls: a deque append and a queue put.
        self._frames: collections.deque[bytes] = collections.deque()
        #: one token per `send`; the writer sleeps on it
        self._wakeups: queue.SimpleQueue[None] = queue.SimpleQueue()
        #: held while taking a batch and writing it, so batches leave in the order queued
        self._write = threading.Lock()
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
        """Queue one message for the writer thread; dropped once the runner has gone away."""
        self._frames.append(encode(message))
        self._wakeups.put(None)

    def queue(self, message: Message) -> None:
        """Queue one message without waking the writer; see `flush_before_read`."""
        self._frames.append(encode(message))

    def send_now(self, message: Message) -> None:
        """Write everything queued, then `message`, before returning."""
        self._flush(encode(message))

    def flush(self) -> None:
        """Write everything queued before returning."""
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
        wakeups = self._wakeups
        while True:
            wakeups.get()
            for _ in range(wakeups.qsize()):  # the frames of these tokens leave in this batch
                wakeups.get_nowait()
            self._flush(None)

    def _flush(self, last: bytes | None) -> None:
        with self._write:
            frames = self._frames
            batch = [frames.popleft() for _ in range(len(frames))]
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
