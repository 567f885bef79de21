"""Each prediction's events: the EventBus protocol (foretell.streaming.bus) and SSE frames.
The engines (the in-process hub and bus; foretell.streaming.redis) are imported by name where
they are chosen (foretell.engines)."""

from foretell.streaming.bus import CancelRequest, EventBus, EventsDropped, StreamEvent

__all__ = ["CancelRequest", "EventBus", "EventsDropped", "StreamEvent"]
