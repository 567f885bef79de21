"""The worker's ends of the runner's two sockets: batched sends, and readers of commands."""

# Two sockets, so that each command wakes only the thread that acts on it: the main thread
# (or event loop) blocks on the data socket (Setup, Predict, Shutdown) and the control
# thread on the control socket (Cancel), which is read even while a prediction runs.

from __future__ import annotations

import collections
import os
import queue
import socket
import threading
from collections.abc import Iterator

from foretell.core.events import Message
from foretell.worker.wire import FrameDecoder, encode

#: A flush from model code gives up waiting after this long (the runner may be stuck).
_SYNC_TIMEOUT_S = 10.0


class Inbox:
    """Commands from one socket: a blocking iterator, or what is available now."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._decoder = FrameDecoder()
        self._decoded: collections.deque[Message] = collections.deque()

    def __iter__(self) -> Iterator[Message]:
        """Messages until the runner closes the socket (blocking reads)."""
        while True:
            while self._decoded:
                yield self._decoded.popleft()
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                return
            if not data:
                return
            self._decoded.extend(self._decoder.feed(data))

    def available(self) -> list[Message] | None:
        """Non-blocking: the messages available now (maybe none); None once it has closed."""
        messages = list(self._decoded)
        self._decoded.clear()
        try:
            data = self.sock.recv(1 << 16, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return messages
        except OSError:
            return None
        if not data:
            return None
        messages += self._decoder.feed(data)
        return messages


class Channel:
    """Sends frames to the runner in order from any thread; a writer thread batches them.

    `send` queues a frame and wakes the writer thread, which writes everything queued so
    far in one syscall: one frame when the model is quiet, hundreds when it yields fast
    (the writer waits for the GIL while the model computes, so frames pile up meanwhile).
    `send_now` writes what is queued plus one frame from the calling thread at once: used
    for Done and the lifecycle messages, so ending a prediction costs no thread hop.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        # `send` runs in model code, where a cancel signal may raise between any two
        # bytecodes, so it only makes two atomic calls: a deque append and a queue put.
        self._frames: collections.deque[bytes] = collections.deque()
        #: one token per `send` (an Event for `sync`); the writer sleeps on it
        self._wakeups: queue.SimpleQueue[threading.Event | None] = queue.SimpleQueue()
        #: held while taking a batch and writing it, so batches leave in the order queued
        self._write = threading.Lock()
        self.closed = False
        threading.Thread(target=self._writer, name="channel-writer", daemon=True).start()

    def send(self, message: Message) -> None:
        """Queue one message for the writer thread; dropped once the runner has gone away."""
        self._frames.append(encode(message))
        self._wakeups.put(None)

    def sync(self) -> None:
        """Wait until the writer thread has written everything queued so far.

        For model code (print(flush=True), logging): the socket is only ever written by the
        writer thread then, so a cancel raised in the waiting thread can't cut a frame.
        """
        written = threading.Event()
        self._wakeups.put(written)
        written.wait(_SYNC_TIMEOUT_S)

    def send_now(self, message: Message) -> None:
        """Write everything queued, then `message`, before returning (not from model code:
        a signal raising there mid-write would cut a frame)."""
        self._flush(encode(message))

    def flush(self) -> None:
        """Write everything queued before returning."""
        self._flush(None)

    def queue(self, message: Message) -> None:
        """Queue `message` without waking the writer: it leaves with the next flush (or
        the writer's next batch). For an event loop that flushes once per turn."""
        self._frames.append(encode(message))

    def _writer(self) -> None:
        wakeups = self._wakeups
        while True:
            tokens = [wakeups.get()]
            # the frames of these tokens leave in this batch
            tokens += [wakeups.get_nowait() for _ in range(wakeups.qsize())]
            self._flush(None)
            for token in tokens:
                if token is not None:
                    token.set()

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
    """The runner closed its sockets without Shutdown: it died, and nobody wants results."""
    os._exit(1)
