"""The Store contract for the two kinds of prediction record: predictions and trainings are
kept alike and listed apart, on every engine."""

from __future__ import annotations

import datetime
from dataclasses import replace

import orjson

from foretell.core.prediction import PREDICTION, TRAINING, Prediction, finish
from foretell.core.status import OPEN, Status
from foretell.store import Store
from foretell.store.codec import dump_prediction, load_prediction

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _record(n: int, kind: str = PREDICTION) -> Prediction:
    made = Prediction(
        id=f"{kind[0]}{n:03d}", account="ann", model="acme/echo", version="v" * 64,
        input={"n": n}, created_at=T0 + datetime.timedelta(seconds=n),
    )  # fmt: skip
    if kind == TRAINING:
        return replace(made, kind=TRAINING, destination="ann/tuned")
    return made


async def test_trainings_and_predictions_are_listed_apart(store: Store) -> None:
    """A listing holds one kind only (predictions unless asked), and pages through it with
    the other kind interleaved."""
    for n in range(6):
        await store.create_prediction(_record(n, TRAINING if n % 2 else PREDICTION))
    assert [p.id for p in (await store.list_predictions("ann", limit=10)).items] == [
        "p004", "p002", "p000",
    ]  # fmt: skip
    first = await store.list_predictions("ann", limit=2, kind=TRAINING)
    assert [p.id for p in first.items] == ["t005", "t003"]
    assert first.next_cursor is not None
    rest = await store.list_predictions("ann", limit=2, kind=TRAINING, cursor=first.next_cursor)
    assert [p.id for p in rest.items] == ["t001"]
    assert rest.next_cursor is None


async def test_a_training_keeps_its_kind_and_destination(store: Store) -> None:
    """A training is read back as a training, before and after its state changes."""
    training = _record(1, TRAINING)
    await store.create_prediction(training)
    assert await store.get_prediction("ann", training.id) == training
    done = finish(training, Status.SUCCEEDED, T0 + datetime.timedelta(minutes=1), output={})
    assert await store.transition(done, OPEN)
    found = await store.get_prediction("ann", training.id)
    assert found is not None
    assert (found.kind, found.destination, found.status) == (
        TRAINING, "ann/tuned", Status.SUCCEEDED,
    )  # fmt: skip
    assert (await store.list_predictions("ann", limit=10, kind=TRAINING)).items == [found]


def test_a_record_stored_before_kinds_is_a_prediction() -> None:
    """A stored document without `kind` (written by an older foretell) loads as a prediction."""
    data = orjson.loads(dump_prediction(_record(1)))
    del data["kind"], data["destination"]
    loaded = load_prediction(orjson.dumps(data))
    assert (loaded.kind, loaded.destination) == (PREDICTION, None)
