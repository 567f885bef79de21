"""Framing on the runner<->worker socket: a 4-byte big-endian length, then a JSON message."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from typing import Any

from foretell.core.events import Message, from_json, to_json

_HEADER = struct.Struct(">I")
MAX_FRAME = 1 << 30

Loads = Callable[[bytes], Any]
Dumps = Callable[[Any], bytes]


def _dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), default=str).encode()


def encode(message: Message, dumps: Dumps = _dumps) -> bytes:
    """One frame for `message` (the runner passes orjson's dumps; the worker has stdlib only)."""
    payload = dumps(to_json(message))
    return _HEADER.pack(len(payload)) + payload


class FrameDecoder:
    """Splits a byte stream into messages; feed it whatever the socket returned."""

    def __init__(self, loads: Loads = json.loads) -> None:
        self._buffer = bytearray()
        self._loads = loads

    def feed(self, data: bytes) -> list[Message]:
        """Add bytes; return every message now complete, in order."""
        buffer = self._buffer
        buffer += data
        messages = []
        offset = 0
        end = len(buffer)
        while end - offset >= 4:
            (size,) = _HEADER.unpack_from(buffer, offset)
            if size > MAX_FRAME:
                raise ValueError(f"frame of {size} bytes is larger than the limit")
            if end - offset - 4 < size:
                break
            start = offset + 4
            messages.append(from_json(self._loads(bytes(buffer[start : start + size]))))
            offset = start + size
        if offset:
            del buffer[:offset]
        return messages
