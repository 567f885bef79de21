"""Cancelling predictions: a ledger of requests, and a signal that interrupts sync model code."""

# A signal handler runs between bytecodes of the main thread and also interrupts blocking
# system calls such as `time.sleep` (PEP 475 retries them only when the handler returns
# normally), so a sync model stops promptly; Cog's async exception waits for the blocking call
# to return instead. A signal that lands just before the main thread enters a blocking call
# (after its last check for pending handlers) only runs once that call returns, so the signal
# is repeated until the handler has raised or the prediction has ended.

from __future__ import annotations

import collections
import queue
import signal
import threading
import time
from types import FrameType

from foretell.predictor.errors import CancelationException

CANCEL_SIGNAL = signal.SIGUSR1
#: How often an undelivered cancel is signalled again.
RESIGNAL_S = 0.02
#: How many ended predictions are remembered, to tell a late cancel from an early one.
_REMEMBERED = 1024


class CancelLedger:
    """Which predictions were asked to cancel; a cancel of one that has ended is ignored.

    Cancels come on their own socket, so one may arrive before its Predict has been read
    (it is kept until then) or after its Done (it is dropped, so it can never hit another).
    """

    def __init__(self) -> None:
        self._requested: set[str] = set()
        self._ended: collections.OrderedDict[str, None] = collections.OrderedDict()

    def request(self, prediction_id: str) -> bool:
        """Record a cancel; False if it is a repeat or comes after the prediction ended."""
        if prediction_id in self._ended or prediction_id in self._requested:
            return False
        self._requested.add(prediction_id)
        return True

    def is_requested(self, prediction_id: str) -> bool:
        """Whether a cancel for this prediction arrived (before or while it ran)."""
        return prediction_id in self._requested

    def ended(self, prediction_id: str) -> None:
        """The prediction is over; later cancels of it are ignored."""
        self._requested.discard(prediction_id)
        self._ended[prediction_id] = None
        if len(self._ended) > _REMEMBERED:
            self._ended.popitem(last=False)


class SyncCanceller:
    """Delivers cancellation into the prediction running in the main thread, and only there."""

    def __init__(self) -> None:
        self._main = threading.main_thread().ident
        #: the prediction in the main thread now
        self.running: str | None = None
        #: True only while the main thread is inside model code
        self.in_model = False
        self.ledger = CancelLedger()
        self._raised: str | None = None
        self._lock = threading.Lock()
        self._resignals: queue.SimpleQueue[str] = queue.SimpleQueue()
        signal.signal(CANCEL_SIGNAL, self._on_signal)
        threading.Thread(target=self._resignal, name="cancel-resignal", daemon=True).start()

    def request(self, prediction_id: str) -> None:
        """Called by the control thread: cancel `prediction_id` if it waits or runs."""
        with self._lock:
            if not self.ledger.request(prediction_id) or self.running != prediction_id:
                return  # a repeat, late, or not started: begin() will see the request
            self._signal()
        self._resignals.put(prediction_id)

    def begin(self, prediction_id: str) -> bool:
        """The main thread is about to run it; False if it was canceled already."""
        with self._lock:
            if self.ledger.is_requested(prediction_id):
                return False
            self.running = prediction_id
            return True

    def is_requested(self, prediction_id: str) -> bool:
        """Whether a cancel for this prediction has arrived."""
        return self.ledger.is_requested(prediction_id)

    def end(self, prediction_id: str) -> None:
        """The prediction is over: no signal may reach the main thread on its behalf now."""
        with self._lock:
            self.in_model = False
            self.running = None
            self.ledger.ended(prediction_id)

    def _signal(self) -> None:
        if self._main is not None:
            signal.pthread_kill(self._main, CANCEL_SIGNAL)

    def _resignal(self) -> None:
        # Signal each requested prediction again until the handler has raised in it; where
        # model code isn't running, the main thread checks is_requested() itself.
        while True:
            prediction_id = self._resignals.get()
            time.sleep(RESIGNAL_S)
            while self.running == prediction_id and self._raised != prediction_id:
                self._signal()
                time.sleep(RESIGNAL_S)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        running = self.running
        if self.in_model and running is not None and self.ledger.is_requested(running):
            self.in_model = False
            self._raised = running
            raise CancelationException(f"prediction {running} was canceled")
