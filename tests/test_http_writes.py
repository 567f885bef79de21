"""The HTTP protocol's writes: what one loop turn writes leaves in one send, and nothing
written is held past that turn or lost on close."""

from __future__ import annotations

import asyncio

from foretell.http_writes import TurnWrites


class Transport:
    """Records each write the protocol's transport makes."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


async def turn() -> None:
    """Let the loop run what was scheduled for the end of this turn."""
    done = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(done.set_result, None)
    await done


async def test_the_writes_of_one_turn_leave_in_one_send() -> None:
    real = Transport()
    writes = TurnWrites(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    writes.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    writes.write(b"{}")
    assert real.sent == []
    await turn()
    assert real.sent == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    writes.write(b"next")
    await turn()
    assert real.sent[1:] == [b"next"]


async def test_close_sends_what_was_written_first() -> None:
    real = Transport()
    writes = TurnWrites(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    writes.write(b"last words")
    writes.close()
    assert real.sent == [b"last words"] and real.closed
    await turn()
    assert real.sent == [b"last words"]  # the turn's flush finds nothing left


async def test_everything_else_is_the_real_transports() -> None:
    writes = TurnWrites(Transport(), asyncio.get_running_loop())  # type: ignore[arg-type]
    assert writes.get_extra_info("peername") == "info:peername"
