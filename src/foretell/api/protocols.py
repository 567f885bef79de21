"""Everything the API needs of the parts below it, in one place (as Starlette's types.py):
the protocols of the seam. The API never names an engine (SQLite, the in-process queue or
bus, the local file store) nor the runner: server.py hands in whatever satisfies these, so
the same handlers sit in front of the embedded shape or a cluster's.
"""

from __future__ import annotations

from foretell.files.protocol import FileStore
from foretell.queue.protocol import Lease, WorkItem, WorkQueue
from foretell.store.protocol import Store
from foretell.streaming.bus import CancelRequest, EventBus, EventsDropped
from foretell.webhooks.protocol import Webhooks

__all__ = [
    "CancelRequest",
    "EventBus",
    "EventsDropped",
    "FileStore",
    "Lease",
    "Store",
    "WorkItem",
    "Webhooks",
    "WorkQueue",
]
