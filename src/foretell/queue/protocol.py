"""The WorkQueue protocol: predictions waiting for a runner, per model, claimed with leases."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

from foretell.core.prediction import Prediction


@dataclass(frozen=True)
class WorkItem:
    """A stored prediction to run on a model, with its input files already resolved:
    by FileStore key, never by path, so any machine's runner can read them."""

    prediction: Prediction
    runner_model: str
    #: input URL -> FileStore key, for inputs that are this server's own files
    #: (`/v1/files/<id>`, signed `/v1/outputs/...` URLs)
    file_keys: dict[str, str] = field(default_factory=dict)
    #: remote file inputs the runner downloads (through the guard) before running
    remote_files: tuple[str, ...] = ()
    #: False when it was made before its model's schema was known: the runner checks its
    #: input (and resolves its files) once it claims it
    admitted: bool = True
    #: the API's base URL it was made at (tells this server's own file URLs from others)
    base_url: str = ""


@dataclass(frozen=True)
class Lease:
    """One claim of an item: valid until `expires_at` (the queue's clock) unless extended."""

    item: WorkItem
    #: tells this claim from a later one of the same item (after this one expired)
    token: str
    expires_at: float
    #: how many times the item has been claimed, this claim included
    attempt: int = 1


class LeaseLost(Exception):
    """The lease expired and the item was claimed again (or acked, or canceled): the holder
    must stop working on it and must not write its result."""


#: how long a place held by `reserve` waits for its item's `put`
RESERVE_S = 60.0


class WorkQueue(Protocol):
    """Work per model, held by the queue until a runner with a free slot claims it.

    Delivery is at least once: an item whose lease expires (its runner died, or stopped
    heartbeating) is claimable again, with a new token; the old holder learns it has lost
    the item from `extend` or `ack` raising LeaseLost.
    """

    async def put(self, item: WorkItem) -> None:
        """Queue an item of its model at its prediction's priority level (never blocks for
        long)."""

    async def reserve(self, prediction_id: str, model: str, cap: int) -> bool:
        """Hold a place in `model`'s queue for the prediction about to be created, so that
        concurrent creates never queue more than `cap`: False (nothing held) if the items
        waiting and the places held already number `cap`. Atomic against every other
        reserve; `put` of the prediction's item takes the place over, and a place never
        taken lapses after RESERVE_S (its create failed)."""

    async def claim(
        self, models: Collection[str], lease_s: float, wait_s: float = 0.0
    ) -> Lease | None:
        """The next claimable item of one of `models`, leased for `lease_s` seconds; waits
        up to `wait_s` for one; None if none came. The order: an expired lease's item, then
        one given back, then the first level of PRIORITIES that has items (across `models`;
        among models with that level, the first in `models`), and within a model and level
        round-robin between accounts (foretell.queue.lanes), oldest first within an account.
        Call it only when a slot for that model is free: the queue, not the runner's
        memory, holds what waits."""

    async def extend(self, lease: Lease, lease_s: float) -> Lease:
        """Heartbeat: the lease, valid for `lease_s` more seconds (LeaseLost if it isn't
        held any more)."""

    async def ack(self, lease: Lease) -> None:
        """The item is done: it leaves the queue for good (LeaseLost if the lease isn't
        held any more; the new holder's result is the one that counts)."""

    async def release(self, lease: Lease) -> None:
        """Give the item back unfinished: claimable again at once, ahead of newer items
        (a no-op if the lease isn't held any more)."""

    async def remove(self, prediction_id: str) -> bool:
        """Take a queued (unclaimed) item out, so it never runs (a cancel): True if it was
        waiting; False if it is claimed or unknown."""

    async def depth(self, model: str) -> int:
        """How many items of `model` wait (claimed ones not counted)."""

    async def position(self, prediction_id: str) -> int | None:
        """How many waiting items of its model will be claimed before this one, as things
        stand (0: it is next); None if it is not waiting (claimed, done or unknown). Items
        queued later at a higher level, or by an account with fewer waiting, may still
        overtake it: it is a snapshot, not a promise."""

    async def epoch(self) -> str:
        """Names the queue's current life: it changes when the queue lost what it held (a
        Redis restarted with nothing on disk), so whoever sees it change puts back, from
        the store, the work that was waiting."""
