"""The Store contract: one suite, run against every engine (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime
from dataclasses import replace

import pytest

from foretell.core.accounts import hash_token
from foretell.core.models import Model, ModelRecord, SetupStatus
from foretell.core.prediction import Prediction, finish, start
from foretell.core.status import OPEN, Status
from foretell.errors import InvalidCursor
from foretell.store import FileRecord, Store
from foretell.store.protocol import WebhookDelivery

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _prediction(n: int, account: str = "ann") -> Prediction:
    return Prediction(
        id=f"p{n:03d}",
        account=account,
        model="acme/echo",
        version="v" * 64,
        input={"text": str(n)},
        created_at=T0 + datetime.timedelta(seconds=n),
    )


async def test_tokens_map_to_accounts(store: Store) -> None:
    """A stored token hash finds its account; an unknown one finds nothing."""
    account = await store.ensure_account("ann", "Ann")
    assert account.webhook_secret.startswith("whsec_")
    assert (await store.ensure_account("ann", "Ann")).webhook_secret == account.webhook_secret
    await store.add_token("ann", hash_token("r8_secret"))
    assert (await store.account_for_token(hash_token("r8_secret"))) == account
    assert await store.account_for_token(hash_token("r8_other")) is None
    assert await store.count_tokens() == 1


async def test_prediction_round_trip_and_updates(store: Store) -> None:
    """What is saved comes back equal, including times, output files and metrics."""
    created = _prediction(1)
    await store.create_prediction(created)
    assert await store.get_prediction("ann", "p001") == created
    running = start(created, T0 + datetime.timedelta(seconds=2))
    done = finish(
        running,
        Status.SUCCEEDED,
        T0 + datetime.timedelta(seconds=3),
        output={"image": "outputs/p001/x/out.png"},
        files=[["image"]],
        metrics={"predict_time": 1.0},
    )
    assert await store.transition(done, OPEN)
    assert await store.get_prediction("ann", "p001") == done


async def test_predictions_are_private_to_their_account(store: Store) -> None:
    """Another account can't read a prediction."""
    await store.create_prediction(_prediction(1))
    assert await store.get_prediction("bob", "p001") is None


async def test_listing_is_newest_first_with_cursors(store: Store) -> None:
    """Pages run newest first; following the cursors visits every prediction once."""
    for n in range(7):
        await store.create_prediction(_prediction(n))
    await store.create_prediction(_prediction(99, account="bob"))
    seen, cursor = [], None
    while True:
        page = await store.list_predictions("ann", limit=3, cursor=cursor)
        seen += [p.id for p in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"p{n:03d}" for n in range(6, -1, -1)]
    back: list[str] = []
    cursor = page.previous_cursor
    while cursor is not None:
        page = await store.list_predictions("ann", limit=3, cursor=cursor)
        back = [p.id for p in page.items] + back
        cursor = page.previous_cursor
    assert back == [f"p{n:03d}" for n in range(6, 0, -1)]


async def test_listing_filters_by_creation_time(store: Store) -> None:
    """created_after is inclusive, created_before exclusive."""
    for n in range(5):
        await store.create_prediction(_prediction(n))
    page = await store.list_predictions(
        "ann",
        limit=10,
        created_after=T0 + datetime.timedelta(seconds=1),
        created_before=T0 + datetime.timedelta(seconds=3),
    )
    assert [p.id for p in page.items] == ["p002", "p001"]


async def test_bad_cursor_is_invalid_cursor(store: Store) -> None:
    """A cursor that isn't ours raises InvalidCursor (a BadRequest: the API answers 400)."""
    with pytest.raises(InvalidCursor, match="invalid cursor"):
        await store.list_predictions("ann", limit=3, cursor="garbage!")


async def test_unfinished_predictions_for_recovery(store: Store) -> None:
    """Starting and processing predictions are returned oldest first; finished ones aren't."""
    a, b, c = _prediction(1), _prediction(2), _prediction(3)
    for p in (a, b, c):
        await store.create_prediction(p)
    assert await store.transition(start(b, T0), OPEN)
    assert await store.transition(
        finish(c, Status.CANCELED, T0 + datetime.timedelta(seconds=9)), OPEN
    )
    assert [p.id for p in await store.unfinished_predictions()] == ["p001", "p002"]


async def test_files(store: Store) -> None:
    """Files are added, read (by owner only, with the key of their bytes), listed and
    deleted."""
    record = FileRecord(
        "f1", "ann", "a.txt", "text/plain", 3, "md5", "sha", {"k": "v"}, T0,
        T0 + datetime.timedelta(days=1), "uploads/f1/a.txt",
    )  # fmt: skip
    await store.add_file(record)
    assert await store.get_file("ann", "f1") == record
    assert await store.get_file(None, "f1") == record
    assert await store.get_file("bob", "f1") is None
    assert [f.id for f in (await store.list_files("ann", limit=10)).items] == ["f1"]
    assert await store.delete_file("ann", "f1") is True
    assert await store.delete_file("ann", "f1") is False


def _delivery(n: int, prediction: str, account: str = "ann", at: int = 0) -> WebhookDelivery:
    when = T0 + datetime.timedelta(seconds=at)
    return WebhookDelivery(
        id=f"msg_{n:03d}", prediction_id=prediction, account=account,
        url="https://example.com/hook", event="completed", payload=b'{"n": %d}' % n,
        created_at=when, next_attempt_at=when,
    )  # fmt: skip


async def test_final_state_and_its_webhook_commit_together(store: Store) -> None:
    """transition writes the state and its webhook rows in one transaction: both or
    neither (a row that can't be written leaves the old state in place)."""
    created = _prediction(1)
    await store.create_prediction(created)
    done = finish(created, Status.SUCCEEDED, T0 + datetime.timedelta(seconds=1), output="ok")
    assert await store.transition(done, OPEN, [_delivery(1, "p001")])
    assert await store.get_prediction("ann", "p001") == done
    assert [d.id for d in await store.list_deliveries("ann", "p001")] == ["msg_001"]
    other = _prediction(2)
    await store.create_prediction(other)
    failed = finish(other, Status.FAILED, T0 + datetime.timedelta(seconds=2), error="x")
    with pytest.raises(Exception):  # the duplicate id is refused by any engine
        await store.transition(failed, OPEN, [_delivery(3, "p002"), _delivery(1, "p002")])
    assert await store.get_prediction("ann", "p002") == other
    assert await store.list_deliveries("ann", "p002") == []


async def test_due_deliveries_keep_order_per_prediction_and_take_turns(store: Store) -> None:
    """Only a prediction's oldest pending row is due; accounts take turns; `exclude` skips."""
    for n in range(3):
        await store.add_delivery(_delivery(n, "p1", account="big", at=n))
    for n in range(3, 13):
        await store.add_delivery(_delivery(n, f"q{n}", account="big", at=n))
    await store.add_delivery(_delivery(50, "s1", account="small", at=40))
    now = T0 + datetime.timedelta(minutes=1)
    due = await store.due_deliveries(now, 3)
    assert "msg_050" in {d.id for d in due}  # the small account's turn comes early
    everything = await store.due_deliveries(now, 100)
    assert [d.id for d in everything if d.prediction_id == "p1"] == ["msg_000"]
    delivered = replace(everything[0], status="delivered", attempts=1)
    await store.save_delivery(delivered)
    later = await store.due_deliveries(now, 100, exclude=["s1"])
    assert "msg_050" not in {d.id for d in later}
    if everything[0].prediction_id == "p1":
        assert "msg_001" in {d.id for d in later}
    assert not await store.due_deliveries(T0 - datetime.timedelta(seconds=1), 100)


async def test_retention_clears_old_predictions_and_lists_expired_files(store: Store) -> None:
    """Predictions finished before the cutoff lose input, output and logs once; running ones
    are never touched; expired uploads are listed for deletion."""
    old, recent, running = _prediction(1), _prediction(2), _prediction(3)
    for p in (old, recent, running):
        await store.create_prediction(p)
    assert await store.transition(
        finish(old, Status.SUCCEEDED, T0 + datetime.timedelta(seconds=10), output="a"), OPEN
    )
    assert await store.transition(
        finish(recent, Status.SUCCEEDED, T0 + datetime.timedelta(hours=2), output="b"), OPEN
    )
    assert await store.transition(start(running, T0), OPEN)
    cutoff = T0 + datetime.timedelta(hours=1)
    assert await store.remove_prediction_data(cutoff, 10) == ["p001"]
    assert await store.remove_prediction_data(cutoff, 10) == []
    cleared = await store.get_prediction("ann", "p001")
    assert cleared is not None and cleared.data_removed and cleared.output is None
    assert cleared.input == {} and cleared.status is Status.SUCCEEDED
    kept = await store.get_prediction("ann", "p002")
    assert kept is not None and kept.output == "b" and not kept.data_removed
    record = FileRecord(
        "f1", "ann", "a.txt", "text/plain", 3, "md5", "sha", {}, T0,
        T0 + datetime.timedelta(days=1), "uploads/f1/a.txt",
    )  # fmt: skip
    await store.add_file(record)
    assert await store.expired_files(T0 + datetime.timedelta(hours=23), 10) == []
    assert await store.expired_files(T0 + datetime.timedelta(days=2), 10) == [record]


async def test_tokens_are_listed_and_revoked_by_hash_prefix(store: Store) -> None:
    """Tokens are listed by hash; a prefix that names exactly one revokes it."""
    await store.ensure_account("ann", "Ann")
    await store.add_token("ann", "aaaa1111", "first")
    await store.add_token("ann", "aaaa2222", "second")
    assert [t.hash for t in await store.list_tokens()] == ["aaaa1111", "aaaa2222"]
    assert sorted(await store.revoke_tokens("aaaa")) == ["aaaa1111", "aaaa2222"]  # ambiguous
    assert len(await store.list_tokens()) == 2
    assert await store.revoke_tokens("aaaa2") == ["aaaa2222"]
    assert await store.account_for_token("aaaa2222") is None
    assert await store.revoke_tokens("ffff") == []


async def test_transition_is_compare_and_set(store: Store) -> None:
    """A write that expects a status the prediction has left loses: nothing is written, not
    even its webhook rows, and a finished prediction never changes again."""
    created = _prediction(1)
    await store.create_prediction(created)
    running = start(created, T0 + datetime.timedelta(seconds=1))
    assert await store.transition(running, [Status.STARTING]) is True
    canceled = finish(running, Status.CANCELED, T0 + datetime.timedelta(seconds=2))
    assert await store.transition(canceled, [Status.STARTING, Status.PROCESSING]) is True
    stale = finish(running, Status.SUCCEEDED, T0 + datetime.timedelta(seconds=3), output="late")
    open_states = [Status.STARTING, Status.PROCESSING]
    assert await store.transition(stale, open_states, [_delivery(1, "p001")]) is False
    assert await store.get_prediction("ann", "p001") == canceled
    assert await store.list_deliveries("ann", "p001") == []


# ---- model registry ----------------------------------------------------------------------


def _record(name: str, status: str = "preparing", node: str = "n1", at: int = 0) -> ModelRecord:
    owner, short = name.split("/")
    model = Model(
        owner,
        short,
        "v" * 64,
        {"openapi": "3.0.2", "components": {"schemas": {"Input": {"properties": {}}}}},
        T0,
        description="Says hello",
        runner_name=name,
        default_example={"input": {"text": "hi"}},
        readme="# Hello\n",
    )
    setup = SetupStatus(status, None, T0, T0 + datetime.timedelta(seconds=2), "pip install")
    return ModelRecord(model, setup, node, T0 + datetime.timedelta(seconds=at))


async def test_published_models_come_back_equal_by_name(store: Store) -> None:
    """A published record reads back field for field; the list is ordered by name."""
    hello, echo = _record("acme/hello"), _record("acme/echo")
    await store.publish_model(hello)
    await store.publish_model(echo)
    assert await store.get_model("acme/hello") == hello
    assert await store.list_models() == [echo, hello]
    assert await store.get_model("acme/none") is None


async def test_publishing_again_replaces_the_record(store: Store) -> None:
    """One record per model: the newest publication (from any node) is the one read."""
    await store.publish_model(_record("acme/hello"))
    failed = replace(
        _record("acme/hello", "setup_failed", node="n2", at=5),
        setup=SetupStatus("setup_failed", "apt-get install x", T0),
    )
    await store.publish_model(failed)
    assert await store.list_models() == [failed]


async def test_a_removed_model_is_gone(store: Store) -> None:
    """remove_model says whether there was one; afterwards nothing lists it."""
    await store.publish_model(_record("acme/hello"))
    assert await store.remove_model("acme/hello") is True
    assert await store.remove_model("acme/hello") is False
    assert await store.list_models() == []


async def test_a_shared_secret_is_made_once_and_read_alike(store: Store) -> None:
    """The first caller makes it; every later one (any node) reads the same bytes."""
    first = await store.shared_secret("url-signing")
    assert len(first) == 32
    assert await store.shared_secret("url-signing") == first
    assert await store.shared_secret("other") != first


# ---- the outbox across nodes: claimed rows -----------------------------------------------


async def test_two_callers_never_get_the_same_row(store: Store) -> None:
    """Deliverers polling at once with a hold split the due rows between them: no row goes to
    both, none is lost."""
    for n in range(20):
        await store.add_delivery(_delivery(n, f"p{n}", account=f"acct{n % 3}", at=n))
    now = T0 + datetime.timedelta(minutes=1)
    first, second = await asyncio.gather(
        store.due_deliveries(now, 15, hold_s=30), store.due_deliveries(now, 15, hold_s=30)
    )
    one, two = {d.id for d in first}, {d.id for d in second}
    assert not one & two
    assert one | two == {f"msg_{n:03d}" for n in range(20)}
    assert await store.due_deliveries(now, 100, hold_s=30) == []  # all held


async def test_a_claimed_row_comes_back_after_the_hold_or_when_saved(store: Store) -> None:
    """A held row is nobody's until the hold has passed (its sender died) or its sender saves
    it (unchanged: handed back at once; with an outcome: as that outcome says)."""
    await store.add_delivery(_delivery(1, "p1"))
    await store.add_delivery(_delivery(2, "p2"))
    now = T0 + datetime.timedelta(minutes=1)
    held = await store.due_deliveries(now, 10, hold_s=30)
    assert [d.next_attempt_at for d in held] == [T0, T0]  # as stored: when they came due
    assert await store.due_deliveries(now + datetime.timedelta(seconds=29), 10) == []
    later = now + datetime.timedelta(seconds=31)
    assert {d.id for d in await store.due_deliveries(later, 10)} == {"msg_001", "msg_002"}
    again = await store.due_deliveries(later, 10, exclude=["p2"], hold_s=30)
    assert [d.id for d in again] == ["msg_001"]
    assert await store.due_deliveries(later, 10, exclude=["p2"]) == []
    await store.save_delivery(again[0])
    assert [d.id for d in await store.due_deliveries(later, 10, exclude=["p2"])] == ["msg_001"]


async def test_a_held_row_keeps_its_predictions_next_rows_behind_it(store: Store) -> None:
    """While a prediction's oldest row is being sent, its next row isn't due for anyone; it
    is once the first is delivered."""
    for n in range(3):
        await store.add_delivery(_delivery(n, "p1", at=n))
    now = T0 + datetime.timedelta(minutes=1)
    [first] = await store.due_deliveries(now, 10, hold_s=30)
    assert first.id == "msg_000"
    assert await store.due_deliveries(now, 10, hold_s=30) == []
    await store.save_delivery(replace(first, status="delivered", attempts=1, finished_at=now))
    assert [d.id for d in await store.due_deliveries(now, 10, hold_s=30)] == ["msg_001"]


async def test_the_oldest_waiting_prediction_per_model(store: Store) -> None:
    """Per model, when its oldest prediction still in the queue (`starting`) was made."""
    assert await store.oldest_waiting() == {}
    base = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    for n, (model, age) in enumerate([("a/x", 30), ("a/x", 10), ("b/y", 5)]):
        made = replace(
            _prediction(n), model=model, created_at=base - datetime.timedelta(seconds=age)
        )
        await store.create_prediction(made)
    oldest = await store.oldest_waiting()
    assert oldest == {
        "a/x": base - datetime.timedelta(seconds=30),
        "b/y": base - datetime.timedelta(seconds=5),
    }
