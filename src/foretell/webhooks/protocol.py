"""The outbox as whoever changes a prediction sees it: the runner, or the API for a
prediction it ends itself (the implementation is foretell.webhooks.outbox.Outbox)."""

from __future__ import annotations

from typing import Protocol

from foretell.core.prediction import Prediction
from foretell.store.protocol import WebhookDelivery


class Webhooks(Protocol):
    """Webhook rows for a prediction's changes."""

    def rows_for(self, prediction: Prediction, event: str) -> list[WebhookDelivery]:
        """Rows for a `start` or `completed` change, for the caller to commit with it."""

    def on_change(self, prediction: Prediction, event: str) -> None:
        """An `output` or `logs` change (throttled, written by the outbox itself)."""

    def wake(self) -> None:
        """Rows were committed: deliver them."""
