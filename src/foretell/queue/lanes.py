"""The order waiting items are claimed in, per model: priority level first (PRIORITIES, 0
first), then fair share between accounts, then arrival.

Fair share is round-robin by account within a model and level: each item gets a round, the
account's next one but never one before the round now being claimed, and items go out by
(round, arrival). An account that queues 100 items takes rounds r..r+99; another that queues
one afterwards takes round r (behind the first account's item of that round), so it is
claimed second, not 101st. The Redis engine keeps the same rounds in Redis
(foretell.queue.redis_scripts); this is the embedded engine's copy.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

from foretell.core.prediction import DEFAULT_PRIORITY, PRIORITIES
from foretell.queue.protocol import WorkItem


def level_of(item: WorkItem) -> int:
    """The item's priority level (one outside PRIORITIES counts as the default)."""
    level = item.prediction.priority
    return level if level in PRIORITIES else DEFAULT_PRIORITY


@dataclass
class Lane:
    """The waiting items of one model at one level, in fair-share order."""

    #: (round, arrival, prediction id); rows of removed items are skipped when met
    heap: list[tuple[int, int, str]] = field(default_factory=list)
    items: dict[str, tuple[tuple[int, int, str], WorkItem]] = field(default_factory=dict)
    #: account -> the round its next item gets (at least `current`)
    next_round: dict[str, int] = field(default_factory=dict)
    #: the round of the item claimed last
    current: int = 0

    def push(self, item: WorkItem, arrival: int) -> None:
        account = item.prediction.account
        round_ = max(self.next_round.get(account, 0), self.current)
        self.next_round[account] = round_ + 1
        key = (round_, arrival, item.prediction.id)
        self.items[item.prediction.id] = (key, item)
        heapq.heappush(self.heap, key)

    def pop(self) -> WorkItem | None:
        while self.heap:
            key = heapq.heappop(self.heap)
            entry = self.items.get(key[2])
            if entry is not None and entry[0] == key:
                del self.items[key[2]]
                self.current = max(self.current, key[0])
                self._forget_idle_accounts()
                return entry[1]
        return None

    def _forget_idle_accounts(self) -> None:
        """An account whose next round has come is the same as one never seen: drop it, so
        the map holds only accounts with items waiting."""
        if len(self.next_round) > 2 * len(self.items) + 16:
            self.next_round = {a: r for a, r in self.next_round.items() if r > self.current}

    def remove(self, prediction_id: str) -> bool:
        return self.items.pop(prediction_id, None) is not None

    def ahead_of(self, prediction_id: str) -> int | None:
        """How many of this lane's items go before it (None: not here)."""
        entry = self.items.get(prediction_id)
        if entry is None:
            return None
        return sum(1 for key, _ in self.items.values() if key < entry[0])

    def __len__(self) -> int:
        return len(self.items)


class ModelLanes:
    """One model's waiting items: given back ones first (in the order given back, newest
    first), then one Lane per priority level."""

    def __init__(self) -> None:
        self.given_back: list[WorkItem] = []
        self.lanes = {level: Lane() for level in PRIORITIES}
        self._arrivals = itertools.count()

    def push(self, item: WorkItem) -> None:
        self.lanes[level_of(item)].push(item, next(self._arrivals))

    def give_back(self, item: WorkItem) -> None:
        self.given_back.insert(0, item)

    def top_level(self) -> int | None:
        """The level its next claim comes from (-1: a given-back item), None if empty."""
        if self.given_back:
            return -1
        return next((level for level in PRIORITIES if self.lanes[level]), None)

    def pop(self) -> WorkItem | None:
        if self.given_back:
            return self.given_back.pop(0)
        for level in PRIORITIES:
            item = self.lanes[level].pop()
            if item is not None:
                return item
        return None

    def remove(self, prediction_id: str) -> bool:
        for index, item in enumerate(self.given_back):
            if item.prediction.id == prediction_id:
                del self.given_back[index]
                return True
        return any(lane.remove(prediction_id) for lane in self.lanes.values())

    def position(self, prediction_id: str) -> int | None:
        """How many of this model's waiting items are claimed before it (None: not waiting)."""
        for index, item in enumerate(self.given_back):
            if item.prediction.id == prediction_id:
                return index
        ahead = len(self.given_back)
        for level in PRIORITIES:
            found = self.lanes[level].ahead_of(prediction_id)
            if found is not None:
                return ahead + found
            ahead += len(self.lanes[level])
        return None

    def __len__(self) -> int:
        return len(self.given_back) + sum(len(lane) for lane in self.lanes.values())
