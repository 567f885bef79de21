"""The WorkQueue protocol: predictions waiting for a runner, in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from foretell.core.prediction import Prediction


@dataclass(frozen=True)
class WorkItem:
    """A stored prediction to run on a model, with the input files already resolved."""

    prediction: Prediction
    runner_model: str
    local_files: dict[str, str] = field(default_factory=dict)
    #: remote file inputs the dispatcher downloads (through the guard) before running
    remote_files: tuple[str, ...] = ()


class WorkQueue(Protocol):
    """FIFO of work. `put` returns once the item is queued; `get` waits for the next one."""

    async def put(self, item: WorkItem) -> None:
        """Queue an item (never blocks for long; the queue is unbounded)."""

    async def get(self) -> WorkItem:
        """The oldest item, waiting until there is one."""
