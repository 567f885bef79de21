"""The Store contract: one suite, run against every engine (SQLite now; PostgreSQL next)."""

from __future__ import annotations

import datetime
import pathlib
from collections.abc import AsyncIterator, Callable

import pytest

from foretell.core.accounts import hash_token
from foretell.core.prediction import Prediction, finish, start
from foretell.core.status import Status
from foretell.store import FileRecord, Store
from foretell.store.sqlite import SQLiteStore

ENGINES: dict[str, Callable[[pathlib.Path], Store]] = {
    "sqlite": lambda tmp: SQLiteStore(tmp / "foretell.db"),
}
T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture(params=sorted(ENGINES))
async def store(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> AsyncIterator[Store]:
    engine = ENGINES[request.param](tmp_path)
    await engine.open()
    yield engine
    await engine.close()


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
    await store.save_prediction(done)
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
    back, cursor = [], page.previous_cursor
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


async def test_bad_cursor_is_a_value_error(store: Store) -> None:
    """A cursor that isn't ours raises ValueError (the API turns it into a 400)."""
    with pytest.raises(ValueError, match="invalid cursor"):
        await store.list_predictions("ann", limit=3, cursor="garbage!")


async def test_unfinished_predictions_for_recovery(store: Store) -> None:
    """Starting and processing predictions are returned oldest first; finished ones aren't."""
    a, b, c = _prediction(1), _prediction(2), _prediction(3)
    for p in (a, b, c):
        await store.create_prediction(p)
    await store.save_prediction(start(b, T0))
    await store.save_prediction(finish(c, Status.CANCELED, T0 + datetime.timedelta(seconds=9)))
    assert [p.id for p in await store.unfinished_predictions()] == ["p001", "p002"]


async def test_files(store: Store) -> None:
    """Files are added, read (by owner only), listed and deleted."""
    record = FileRecord(
        "f1", "ann", "a.txt", "text/plain", 3, "md5", "sha", {"k": "v"}, T0,
        T0 + datetime.timedelta(days=1), "/tmp/a.txt",
    )  # fmt: skip
    await store.add_file(record)
    assert await store.get_file("ann", "f1") == record
    assert await store.get_file(None, "f1") == record
    assert await store.get_file("bob", "f1") is None
    assert [f.id for f in (await store.list_files("ann", limit=10)).items] == ["f1"]
    assert await store.delete_file("ann", "f1") is True
    assert await store.delete_file("ann", "f1") is False
