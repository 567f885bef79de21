"""Moving work to the runner: the WorkQueue protocol and its in-process implementation."""

from foretell.queue.memory import MemoryQueue
from foretell.queue.protocol import Lease, LeaseLost, WorkItem, WorkQueue

__all__ = ["Lease", "LeaseLost", "MemoryQueue", "WorkItem", "WorkQueue"]
