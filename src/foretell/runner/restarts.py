"""When a crashed worker is restarted: exponential backoff, and a limit that makes it defunct."""

from __future__ import annotations

import collections
import time

#: The first restart waits this long; each further one within the window twice as long.
FIRST_DELAY_S = 0.05
MAX_DELAY_S = 5.0


class RestartPolicy:
    """Counts crashes within a sliding window; past `limit` of them, stop restarting."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._crashes: collections.deque[float] = collections.deque()

    @property
    def count(self) -> int:
        """Crashes within the window."""
        return len(self._crashes)

    def crashed(self, now: float | None = None) -> float | None:
        """Record a crash; the delay before restarting, or None when past the limit."""
        now = time.monotonic() if now is None else now
        self._crashes.append(now)
        while self._crashes and now - self._crashes[0] > self.window_s:
            self._crashes.popleft()
        if len(self._crashes) > self.limit:
            return None
        return min(MAX_DELAY_S, FIRST_DELAY_S * 2.0 ** (len(self._crashes) - 1))

    def gave_up_message(self) -> str:
        """Why the model is defunct."""
        return (
            f"The model's process crashed {self.count} times in {self.window_s:.0f} s; "
            "it won't be restarted again. Fix the model, then add it again."
        )
