"""Framing on the runner<->worker socket: a 4-byte big-endian length, then a JSON message."""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable
from typing import Any

from foretell.core.events import Message, from_json, to_json

_HEADER = struct.Struct(">I")
MAX_FRAME = 1 << 30

Loads = Callable[[bytes], Any]
Dumps = Callable[[Any], bytes]

# One encoder for every frame: json.dumps with options builds a new encoder per call.
# NaN and infinity aren't JSON (the runner's parser rejects them), so they become null,
# as orjson writes them.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str, allow_nan=False)


def _dumps(data: Any) -> bytes:
    try:
        return _ENCODER.encode(data).encode()
    except ValueError:
        return _ENCODER.encode(_finite(data)).encode()


def _finite(value: Any) -> Any:
    """`value` with every NaN or infinite float replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def encode(message: Message, dumps: Dumps = _dumps) -> bytes:
    """One frame for `message` (the runner passes orjson's dumps; the worker has stdlib only)."""
    payload = dumps(to_json(message))
    return _HEADER.pack(len(payload)) + payload


class FrameDecoder:
    """Splits a byte stream into messages; feed it whatever the socket returned."""

    def __init__(self, loads: Loads = json.loads) -> None:
        self._partial = bytearray()
        #: bytes the partial frame needs before it can be decoded
        self._need = 0
        self._loads = loads

    def feed(self, data: bytes) -> list[Message]:
        """Add bytes; return every message now complete, in order."""
        if self._partial:
            # a frame larger than one read: collect it (amortized linear) until complete
            self._partial += data
            if len(self._partial) < self._need:
                return []
            data, self._partial = bytes(self._partial), bytearray()
        messages = []
        offset = 0
        end = len(data)
        unpack, loads = _HEADER.unpack_from, self._loads
        while end - offset >= 4:
            (size,) = unpack(data, offset)
            if size > MAX_FRAME:
                raise ValueError(f"frame of {size} bytes is larger than the limit")
            start = offset + 4
            if end - start < size:
                break
            messages.append(from_json(loads(data[start : start + size])))
            offset = start + size
        if offset < end:
            self._partial = bytearray(data[offset:])
            self._need = 4 + unpack(data, offset)[0] if end - offset >= 4 else 4
        return messages
