"""The sweeper meets Cancel-After deadlines and fails what dead runners held (real SQLite,
in-process queue and bus, a manual clock; one sweep per check, no sleeps)."""

from __future__ import annotations

import datetime

from foretell.api.service import PredictionService
from foretell.api.sweeper import Sweeper
from foretell.core.prediction import Prediction, start
from foretell.core.status import EXPIRED_QUEUED_ERROR, ORPHANED_ERROR, Status
from foretell.core.times import utcnow
from foretell.queue.protocol import WorkItem

MODEL = "acme/echo"


def _prediction(n: int, deadline: datetime.datetime | None = None) -> Prediction:
    return Prediction(
        id=f"p{n}", account="ann", model=MODEL, version="v" * 64, input={},
        created_at=utcnow(), deadline=deadline,
    )  # fmt: skip


async def _stored(service: PredictionService, pid: str) -> Prediction:
    stored = await service.get("ann", pid)
    assert stored is not None
    return stored


async def test_a_deadline_made_here_cancels_a_queued_prediction(
    service: PredictionService,
) -> None:
    """Past its deadline, a queued prediction is canceled and leaves the queue."""
    now = [utcnow()]
    sweeper = Sweeper(service, clock=lambda: now[0])
    service.on_deadline = sweeper.schedule
    await service.create(WorkItem(_prediction(1, now[0] + datetime.timedelta(seconds=30)), MODEL))
    await sweeper.sweep()
    assert (await _stored(service, "p1")).status is Status.STARTING
    now[0] += datetime.timedelta(seconds=31)
    await sweeper.sweep()
    ended = await _stored(service, "p1")
    assert ended.status is Status.CANCELED and ended.error == EXPIRED_QUEUED_ERROR
    assert await service.queue.depth(MODEL) == 0


async def test_a_deadline_made_elsewhere_is_found_in_the_store(
    service: PredictionService,
) -> None:
    """Deadlines of predictions this node didn't make (or made before a restart) are met."""
    past = utcnow() - datetime.timedelta(seconds=1)
    await service.store.create_prediction(_prediction(1, past))
    await Sweeper(service).sweep()
    assert (await _stored(service, "p1")).status is Status.CANCELED


async def test_a_prediction_of_a_dead_runner_fails(service: PredictionService) -> None:
    """Processing on a runner whose lease ran out: failed, with what to do about it."""
    created = _prediction(1)
    await service.store.create_prediction(created)
    await service.store.claim_prediction("p1", "runner-a", utcnow() - datetime.timedelta(1))
    await service.store.transition(start(created, utcnow()), [Status.STARTING])
    await Sweeper(service).sweep()
    ended = await _stored(service, "p1")
    assert ended.status is Status.FAILED and ended.error == ORPHANED_ERROR


async def test_a_far_deadline_waits_in_the_store_not_in_memory(
    service: PredictionService,
) -> None:
    """Only deadlines due before the next scan are held in memory; a later scan picks up
    the others, so a long Cancel-After costs no memory on the API node."""
    now = [utcnow()]
    sweeper = Sweeper(service, clock=lambda: now[0], scan_s=5)
    service.on_deadline = sweeper.schedule
    far = now[0] + datetime.timedelta(hours=1)
    await service.create(WorkItem(_prediction(1, far), MODEL))
    assert sweeper.held() == []
    now[0] = far - datetime.timedelta(seconds=2)
    await sweeper.sweep()  # within the horizon now: scheduled to the minute
    assert sweeper.held() == ["p1"]
    now[0] = far + datetime.timedelta(seconds=1)
    await sweeper.sweep()
    assert (await _stored(service, "p1")).status is Status.CANCELED
