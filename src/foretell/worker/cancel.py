"""Cancelling a sync predictor: a signal to the main thread raises CancelationException there.

A signal handler runs between bytecodes of the main thread and also interrupts blocking system
calls such as `time.sleep` (PEP 475 retries them only when the handler returns normally), so the
model stops promptly; Cog's async exception waits for the blocking call to return instead.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

from foretell.predictor.errors import CancelationException

CANCEL_SIGNAL = signal.SIGUSR1


class SyncCanceller:
    """Delivers cancellation into the prediction running in the main thread, and only there."""

    def __init__(self) -> None:
        self._main = threading.main_thread().ident
        self.running: str | None = None
        #: True only while the main thread is inside model code
        self.in_model = False
        self.requested: set[str] = set()
        signal.signal(CANCEL_SIGNAL, self._on_signal)

    def request(self, prediction_id: str) -> None:
        """Called from the reader thread: cancel `prediction_id` now if it is running."""
        self.requested.add(prediction_id)
        if self.running == prediction_id and self._main is not None:
            signal.pthread_kill(self._main, CANCEL_SIGNAL)

    def is_requested(self, prediction_id: str) -> bool:
        """Whether a cancel for this prediction arrived (before or while it ran)."""
        return prediction_id in self.requested

    def forget(self, prediction_id: str) -> None:
        """The prediction ended; a late cancel for it must not hit the next one."""
        self.requested.discard(prediction_id)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.in_model and self.running is not None and self.running in self.requested:
            self.in_model = False
            raise CancelationException(f"prediction {self.running} was canceled")
