"""uvicorn's HTTP protocol with the writes of one loop turn sent as one: a response's
status line and headers go out with its body in one send, not two (one system call and one
TCP segment fewer per response; an SSE stream's events of one turn share a segment too).

The writes are held only until the end of the current loop turn, so nothing waits on a
later event: headers of a stream whose first event comes later still leave at once.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class TurnWrites:
    """A transport that joins what is written to it during one loop turn.

    Everything but `write`, `writelines` and `close` goes to the real transport unchanged
    (flow control, peer address, abort).
    """

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()  # what was written before close() still goes, as with a plain transport
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class TurnWritesProtocol(HttpToolsProtocol):
    """HttpToolsProtocol on a TurnWrites transport (give it to uvicorn.Config as `http`)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike
        real = cast(asyncio.Transport, transport)
        super().connection_made(cast(asyncio.Transport, TurnWrites(real, self.loop)))
