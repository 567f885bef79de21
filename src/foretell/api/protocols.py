"""What the API needs of the parts below it, stated as protocols (as Starlette's types.py).

The API never names an engine (the dispatcher, the model host, the local file store, the
stream hub): server.py hands in whatever satisfies these, so the same handlers can sit in
front of an embedded runner or, later, a cluster's.
"""

from __future__ import annotations

import pathlib
from typing import Any, Protocol

from foretell.core.prediction import Prediction
from foretell.streaming import StreamLog


class Predictions(Protocol):
    """Control of predictions in flight: live copies, waiting for the end, cancel."""

    def get(self, prediction_id: str) -> Prediction | None:
        """The live copy of a running prediction (fresher than the store's), or None."""

    def expect(self, prediction_id: str) -> None:
        """A prediction is about to be queued: from now on `wait` can wait for it."""

    async def wait(self, prediction_id: str, timeout: float) -> None:
        """Wait up to `timeout` seconds for an expected or running prediction to finish."""

    async def cancel(self, prediction: Prediction, reason: str | None = None) -> None:
        """End `prediction` as `canceled`, whichever step it is in."""


class ModelLifecycle(Protocol):
    """Models coming up in the background, and the predictions that wait for them."""

    def status(self, name: str) -> dict[str, Any]:
        """The model's setup state as the models API shows it."""

    async def defer(self, prediction: Prediction, base: str) -> None:
        """Queue a stored prediction once its model is described; fail it if it can't start."""

    async def cancel_waiting(self, prediction_id: str, reason: str | None = None) -> bool:
        """Cancel a prediction still waiting for its model; False if none is waiting."""

    def waiting_note(self, name: str) -> str:
        """The log line a waiting prediction shows ("" if the model is not starting)."""


class FileStore(Protocol):
    """Uploaded and output files' bytes."""

    def save_upload(self, name: str, data: bytes) -> tuple[str, pathlib.Path, str, str]:
        """Store uploaded bytes: (id, path, md5 hex, sha256 hex)."""

    def delete_upload(self, upload_id: str) -> None:
        """Remove an upload's bytes."""

    def path_of(self, key: str) -> pathlib.Path | None:
        """The file for a stored key, or None if it's missing."""


class EventLogs(Protocol):
    """Each prediction's SSE event log (until the EventBus replaces it here)."""

    max_events: int

    def open(self, prediction_id: str) -> StreamLog:
        """The log of a prediction, created if needed."""

    def get(self, prediction_id: str) -> StreamLog | None:
        """The log if it is still held."""
