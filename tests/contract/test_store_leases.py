"""The Store contract, who-runs-what part: claims, leases, cancel requests, deadlines."""

from __future__ import annotations

import datetime
from dataclasses import replace

from foretell.core.prediction import Prediction, finish, start
from foretell.core.status import Status
from foretell.core.times import utcnow
from foretell.store import Store
from foretell.store.protocol import ClaimVerdict, WebhookDelivery

OPEN = (Status.STARTING, Status.PROCESSING)


def _prediction(n: int, deadline: datetime.datetime | None = None) -> Prediction:
    return Prediction(
        id=f"p{n:03d}", account="ann", model="acme/echo", version="v" * 64, input={},
        created_at=utcnow(), deadline=deadline,
    )  # fmt: skip


def _in(seconds: float) -> datetime.datetime:
    return utcnow() + datetime.timedelta(seconds=seconds)


async def test_a_claim_makes_the_runner_the_owner(store: Store) -> None:
    """The first runner to claim runs it; another one, while that lease holds, leaves it."""
    await store.create_prediction(_prediction(1))
    first = await store.claim_prediction("p001", "runner-a", _in(30))
    assert first.verdict is ClaimVerdict.RUN
    again = await store.claim_prediction("p001", "runner-b", _in(30))
    assert again.verdict is ClaimVerdict.HELD
    assert (await store.claim_prediction("p001", "runner-a", _in(30))).verdict is ClaimVerdict.RUN


def _start_row(prediction: Prediction) -> WebhookDelivery:
    when = utcnow()
    return WebhookDelivery(
        id="msg_start", prediction_id=prediction.id, account=prediction.account,
        url="https://example.com/hook", event="start", payload=b"{}",
        created_at=when, next_attempt_at=when,
    )  # fmt: skip


async def test_a_claim_with_its_start_writes_both_with_the_start_webhook(store: Store) -> None:
    """A runner with a free slot claims and starts in one write: the stored prediction is
    `processing` as given, and its `start` webhook row is there."""
    created = _prediction(1)
    await store.create_prediction(created)
    started = start(created, utcnow())
    claim = await store.claim_prediction(
        "p001", "runner-a", _in(30), started, [_start_row(created)]
    )
    assert claim.verdict is ClaimVerdict.RUN and claim.started
    stored = await store.get_prediction("ann", "p001")
    assert stored is not None and stored.status is Status.PROCESSING
    assert stored.started_at == started.started_at
    assert [d.event for d in await store.list_deliveries("ann", "p001")] == ["start"]
    # it is held and running now: another runner's claim neither runs nor starts it
    again = await store.claim_prediction("p001", "runner-b", _in(30), started)
    assert again.verdict is ClaimVerdict.HELD and not again.started


async def test_a_claim_that_may_not_run_writes_no_start(store: Store) -> None:
    """Canceled while queued: the claim says so, and neither the start nor its row is
    written."""
    created = _prediction(1)
    await store.create_prediction(created)
    await store.request_cancel("p001", "stop")
    claim = await store.claim_prediction(
        "p001", "runner-a", _in(30), start(created, utcnow()), [_start_row(created)]
    )
    assert claim.verdict is ClaimVerdict.CANCELED and not claim.started
    stored = await store.get_prediction("ann", "p001")
    assert stored is not None and stored.status is Status.STARTING
    assert await store.list_deliveries("ann", "p001") == []


async def test_an_expired_lease_passes_on_before_it_started(store: Store) -> None:
    """A prediction whose runner died before starting it is claimable by another one."""
    await store.create_prediction(_prediction(1))
    await store.claim_prediction("p001", "runner-a", _in(-1))
    assert (await store.claim_prediction("p001", "runner-b", _in(30))).verdict is ClaimVerdict.RUN


async def test_a_started_prediction_of_a_dead_runner_is_orphaned(store: Store) -> None:
    """Once it ran somewhere, a lost lease means failing it, not running it twice."""
    created = _prediction(1)
    await store.create_prediction(created)
    await store.claim_prediction("p001", "runner-a", _in(-1))
    assert await store.transition(start(created, utcnow()), [Status.STARTING])
    assert (await store.claim_prediction("p001", "runner-b", _in(30))).verdict is (
        ClaimVerdict.ORPHANED
    )
    assert [p.id for p in await store.expired_leases(utcnow(), 10)] == ["p001"]


async def test_renewed_leases_do_not_expire(store: Store) -> None:
    """A heartbeat moves every lease of its runner forward in one call."""
    created = [_prediction(n) for n in (1, 2)]
    for prediction in created:
        await store.create_prediction(prediction)
        await store.claim_prediction(prediction.id, "runner-a", _in(-1))
        await store.transition(start(prediction, utcnow()), [Status.STARTING])
    assert await store.renew_leases("runner-a", ["p001"], _in(30)) == {"p001"}
    # not its owner: no effect, and it learns it doesn't hold it
    assert await store.renew_leases("runner-b", ["p002"], _in(30)) == set()
    assert [p.id for p in await store.expired_leases(utcnow(), 10)] == ["p002"]


async def test_a_cancel_request_is_durable(store: Store) -> None:
    """Asked before any runner had it: whoever claims it later must not run it."""
    await store.create_prediction(_prediction(1))
    state = await store.request_cancel("p001", "Prediction canceled: too slow.")
    assert state is not None and not state.held
    claim = await store.claim_prediction("p001", "runner-a", _in(30))
    assert claim.verdict is ClaimVerdict.CANCELED
    assert claim.cancel_reason == "Prediction canceled: too slow."
    assert claim.prediction is not None and claim.prediction.id == "p001"  # to end it from
    assert await store.request_cancel("p999", None) is None


async def test_a_cancel_request_says_whether_a_runner_holds_it(store: Store) -> None:
    """A held prediction is stopped by its runner; nobody else writes its end."""
    await store.create_prediction(_prediction(1))
    await store.claim_prediction("p001", "runner-a", _in(30))
    state = await store.request_cancel("p001", None)
    assert state is not None and state.held


async def test_a_finished_prediction_is_not_claimed_again(store: Store) -> None:
    """A queue that delivers twice (at least once) can't make it run twice."""
    created = _prediction(1)
    await store.create_prediction(created)
    done = finish(created, Status.SUCCEEDED, utcnow(), output="ok")
    assert await store.transition(done, OPEN)
    assert (await store.claim_prediction("p001", "runner-a", _in(30))).verdict is (
        ClaimVerdict.FINISHED
    )
    assert (await store.claim_prediction("nope", "runner-a", _in(30))).verdict is (
        ClaimVerdict.FINISHED
    )


async def test_due_deadlines_are_the_unfinished_ones_soonest_first(store: Store) -> None:
    """The deadline sweeper's query: past deadlines of open predictions only."""
    await store.create_prediction(_prediction(1, deadline=_in(-5)))
    await store.create_prediction(_prediction(2, deadline=_in(-10)))
    await store.create_prediction(_prediction(3, deadline=_in(60)))
    ended = _prediction(4, deadline=_in(-20))
    await store.create_prediction(ended)
    await store.transition(finish(ended, Status.CANCELED, utcnow()), OPEN)
    await store.create_prediction(replace(_prediction(5), deadline=None))
    assert [p.id for p in await store.due_deadlines(utcnow(), 10)] == ["p002", "p001"]
    assert [p.id for p in await store.due_deadlines(utcnow(), 1)] == ["p002"]
