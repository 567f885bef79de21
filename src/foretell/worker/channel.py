"""The worker's end of the socket to the runner: send messages, read commands."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator

from foretell.core.events import Message
from foretell.worker.wire import FrameDecoder, encode


class Channel:
    """Thread-safe sends (each frame written whole) and a blocking iterator of commands."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()
        self.closed = False

    def send(self, message: Message) -> None:
        """Send one message; silently dropped once the runner has gone away."""
        frame = encode(message)
        with self._lock:
            if self.closed:
                return
            try:
                self._sock.sendall(frame)
            except OSError:
                self.closed = True

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


def runner_gone() -> None:
    """The runner closed the socket without Shutdown: it died, and nobody wants results."""
    os._exit(1)
