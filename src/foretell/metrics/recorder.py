"""What the counting places call: a Recorder. The default records nothing, so a part built
without metrics (a test's, a tool's) behaves exactly as before."""

from __future__ import annotations

from typing import Protocol

from foretell.core.prediction import Prediction


class Recorder(Protocol):
    """The hooks: each a cheap, synchronous call that never raises."""

    def created(self, model: str) -> None:
        """A prediction of `model` was stored and queued (by this API node)."""

    def ended(self, prediction: Prediction) -> None:
        """`prediction` reached its terminal status here (its end was written by this
        process: the runner that ran it, or the API node that ended it unrun)."""

    def webhook(self, outcome: str) -> None:
        """A webhook attempt ended: `delivered`, `retry` (it is tried again) or `failed`."""

    def sse(self, delta: int) -> None:
        """An SSE stream opened (+1) or closed (-1)."""

    def cold_boot(self, model: str, seconds: float) -> None:
        """An instance of `model` started while none ran, and took `seconds` to be ready."""

    def instances(self, model: str, count: int) -> None:
        """`model` now runs `count` instances on this runner."""


class NoMetrics:
    """A Recorder that records nothing."""

    def created(self, model: str) -> None:
        pass

    def ended(self, prediction: Prediction) -> None:
        pass

    def webhook(self, outcome: str) -> None:
        pass

    def sse(self, delta: int) -> None:
        pass

    def cold_boot(self, model: str, seconds: float) -> None:
        pass

    def instances(self, model: str, count: int) -> None:
        pass


#: the default of every hook
NO_METRICS: Recorder = NoMetrics()
