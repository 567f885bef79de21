"""Server-Sent Events for predictions: the event log each stream reads, and its frames."""

from foretell.streaming.hub import StreamEvent, StreamHub, StreamLog

__all__ = ["StreamEvent", "StreamHub", "StreamLog"]
