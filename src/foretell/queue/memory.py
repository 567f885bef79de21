"""The embedded shape's queue: an asyncio queue inside the server process."""

from __future__ import annotations

import asyncio

from foretell.queue.protocol import WorkItem


class MemoryQueue:
    """Unbounded FIFO; durability comes from the store, which recovery re-reads on start."""

    def __init__(self) -> None:
        self._items: asyncio.Queue[WorkItem] = asyncio.Queue()

    async def put(self, item: WorkItem) -> None:
        self._items.put_nowait(item)

    async def get(self) -> WorkItem:
        return await self._items.get()
