"""Moving work to the runner: the WorkQueue protocol. The engines (foretell.queue.memory;
foretell.queue.redis) are imported by name where they are chosen (foretell.engines)."""

from foretell.queue.protocol import Lease, LeaseLost, WorkItem, WorkQueue

__all__ = ["Lease", "LeaseLost", "WorkItem", "WorkQueue"]
