"""Moving work to the runner: the WorkQueue protocol and its in-process implementation."""

from foretell.queue.memory import MemoryQueue
from foretell.queue.protocol import WorkItem, WorkQueue

__all__ = ["MemoryQueue", "WorkItem", "WorkQueue"]
