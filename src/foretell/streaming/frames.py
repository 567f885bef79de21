"""SSE framing, with the official clients' parsers in mind.

Every event gets an `id:` line: Python client 1.x only dispatches an event once it has seen
both `event:` and `id:` (one without an id is merged into the next), and it refuses event
names other than output, logs, error and done; so a queue note is a `logs` event with an id
too (foretell.api.streams). Multi-line data becomes several `data:` lines, and exactly one space
follows each colon, so a token's own leading space survives.
"""

from __future__ import annotations

KEEP_ALIVE = ": keep-alive\n\n"
OPENING = ": hi\n\n"


def frame(event_id: int, name: str, text: str) -> str:
    """One SSE event."""
    data = "".join(f"data: {line}\n" for line in text.split("\n"))
    return f"event: {name}\nid: {event_id}\n{data}\n"
