"""Cancelling a sync predictor: a signal to the main thread raises CancelationException there."""

# A signal handler runs between bytecodes of the main thread and also interrupts blocking
# system calls such as `time.sleep` (PEP 475 retries them only when the handler returns
# normally), so the model stops promptly; Cog's async exception waits for the blocking call
# to return instead. A signal that lands just before the main thread enters a blocking call
# (after its last check for pending handlers) only runs once that call returns, so the signal
# is repeated until the handler has raised or the prediction has ended.

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

from foretell.predictor.errors import CancelationException

CANCEL_SIGNAL = signal.SIGUSR1
#: How often an undelivered cancel is signalled again.
RESIGNAL_S = 0.02


class SyncCanceller:
    """Delivers cancellation into the prediction running in the main thread, and only there."""

    def __init__(self) -> None:
        self._main = threading.main_thread().ident
        #: the prediction in the main thread now, set and cleared by the main thread
        self.running: str | None = None
        #: True only while the main thread is inside model code
        self.in_model = False
        self._active: set[str] = set()
        self._requested: set[str] = set()
        self._raised: str | None = None
        self._lock = threading.Lock()
        signal.signal(CANCEL_SIGNAL, self._on_signal)

    def admit(self, prediction_id: str) -> None:
        """Called by the reader for each Predict, before the main thread can see it."""
        with self._lock:
            self._active.add(prediction_id)

    def request(self, prediction_id: str) -> None:
        """Called by the reader: cancel `prediction_id` if it is waiting or running.

        A cancel for a prediction that has ended, or that this worker never had, is ignored,
        so a late or repeated cancel can never hit the prediction that runs after it.
        """
        with self._lock:
            if prediction_id not in self._active or prediction_id in self._requested:
                return
            self._requested.add(prediction_id)
        threading.Thread(target=self._deliver, args=(prediction_id,), daemon=True).start()

    def is_requested(self, prediction_id: str) -> bool:
        """Whether a cancel for this prediction arrived (before or while it ran)."""
        return prediction_id in self._requested

    def forget(self, prediction_id: str) -> None:
        """The prediction ended; a late cancel for it must not hit the next one."""
        with self._lock:
            self._active.discard(prediction_id)
            self._requested.discard(prediction_id)

    def _deliver(self, prediction_id: str) -> None:
        # Signal while the prediction waits to start or runs, until the handler has raised
        # in it; the main thread also checks is_requested() wherever model code isn't running.
        while prediction_id in self._active and self._raised != prediction_id:
            if self.running == prediction_id and self._main is not None:
                signal.pthread_kill(self._main, CANCEL_SIGNAL)
            time.sleep(RESIGNAL_S)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        running = self.running
        if self.in_model and running is not None and running in self._requested:
            self.in_model = False
            self._raised = running
            raise CancelationException(f"prediction {running} was canceled")
