"""The framing of messages on the runner<->worker socket."""

from __future__ import annotations

import orjson
import pytest

from foretell.core.events import Done, Log, Message, Output, Predict
from foretell.worker.wire import FrameDecoder, encode


def test_messages_round_trip_through_any_chunking() -> None:
    """Frames split at every possible byte boundary decode to the same messages."""
    messages: list[Message] = [
        Predict("p1", {"text": "héllo"}, "/tmp/out"),
        Log("p1", "stdout", "line\n"),
        Output("p1", {"image": "/tmp/out/a.png"}, [["image"]]),
        Done("p1", "succeeded", metrics={"predict_time": 0.1}),
    ]
    stream = b"".join(encode(m) for m in messages)
    for size in (1, 3, 7, len(stream)):
        decoder = FrameDecoder()
        decoded = []
        for start in range(0, len(stream), size):
            decoded += decoder.feed(stream[start : start + size])
        assert decoded == messages


def test_unknown_message_type_is_an_error() -> None:
    """A frame naming no known message raises ValueError (the runner then kills the worker)."""
    frame = encode(Log(None, "stdout", "x")).replace(b'"Log"', b'"Nop"')
    with pytest.raises(ValueError, match="unknown message type"):
        FrameDecoder().feed(frame)


def test_a_frame_larger_than_one_read_is_reassembled() -> None:
    """A 3 MB frame arriving in 64 kB reads decodes once, to the same message."""
    message = Output("p1", "x" * 3_000_000)
    frame = encode(message)
    decoder = FrameDecoder()
    decoded = []
    for start in range(0, len(frame), 1 << 16):
        decoded += decoder.feed(frame[start : start + (1 << 16)])
    assert decoded == [message]


def test_non_finite_floats_are_encoded_as_null() -> None:
    """NaN and infinity, which JSON can't carry, are written as null (as orjson does)."""
    frame = encode(Output("p1", {"a": [float("nan"), 1.0, float("-inf")]}))
    (decoded,) = FrameDecoder(orjson.loads).feed(frame)
    assert decoded == Output("p1", {"a": [None, 1.0, None]})
