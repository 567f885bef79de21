"""The predictions service's own behaviour (real SQLite, in-process queue and bus)."""

from __future__ import annotations

import dataclasses
import datetime

from foretell.api.service import PredictionService
from foretell.core.prediction import Prediction, finish
from foretell.core.status import Status
from foretell.core.times import utcnow
from foretell.queue.protocol import WorkItem


def _prediction(pid: str) -> Prediction:
    return Prediction(
        id=pid, account="ann", model="acme/echo", version="v" * 64, input={},
        created_at=utcnow(),
    )  # fmt: skip


async def test_a_prediction_ended_here_is_answered_as_written(
    service: PredictionService,
) -> None:
    """Right after its end is written, get() gives exactly that end; another account still
    gets nothing, and once the moment has passed the store answers."""
    created = _prediction("p1")
    await service.create(WorkItem(created, "acme/echo"))
    final = finish(created, Status.SUCCEEDED, utcnow(), output="done")
    assert await service.store.transition(final, [Status.STARTING])
    service.remember(final)
    assert await service.get("ann", "p1") is final
    assert await service.get("bob", "p1") is None
    service.recent_s = 0  # its moment is over: read from the store
    stored = await service.get("ann", "p1")
    assert stored is not final and stored == final


async def test_an_old_end_is_never_answered_from_memory(service: PredictionService) -> None:
    """An end older than the window (data retention may have removed its data since) is
    read from the store, and remembering newer ones lets it go."""
    created = _prediction("p2")
    await service.create(WorkItem(created, "acme/echo"))
    long_ago = utcnow() - datetime.timedelta(hours=2)
    old = finish(created, Status.SUCCEEDED, long_ago, output="old")
    assert await service.store.transition(old, [Status.STARTING])
    service.remember(dataclasses.replace(old, output="not what the store holds"))
    stored = await service.get("ann", "p2")
    assert stored is not None and stored.output == "old"
