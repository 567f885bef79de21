"""Instance places across the cluster: never more than a model's limit at once, on every
store engine; an expired or released place is free again."""

from __future__ import annotations

import asyncio
import datetime

from foretell.core.times import utcnow
from foretell.store import Store


def _in(seconds: float) -> datetime.datetime:
    return utcnow() + datetime.timedelta(seconds=seconds)


async def test_no_more_places_than_the_limit(store: Store) -> None:
    assert await store.reserve_instance("m", "w1/1", 2, _in(30))
    assert await store.reserve_instance("m", "w2/1", 2, _in(30))
    assert not await store.reserve_instance("m", "w2/2", 2, _in(30))
    assert await store.reserve_instance("other", "w2/2", 1, _in(30))  # per model
    assert await store.reserve_instance("m", "w1/1", 2, _in(60))  # its own, renewed
    await store.release_instance("w1/1")
    assert await store.reserve_instance("m", "w2/2", 2, _in(30))


async def test_an_expired_place_is_free_again(store: Store) -> None:
    assert await store.reserve_instance("m", "dead/1", 1, _in(-1))  # its worker died
    assert await store.reserve_instance("m", "live/1", 1, _in(30))
    await store.renew_instances(["live/1"], _in(60))
    assert not await store.reserve_instance("m", "late/1", 1, _in(30))


async def test_racing_reservations_take_exactly_the_limit(store: Store) -> None:
    results = await asyncio.gather(
        *(store.reserve_instance("m", f"w{n}/1", 3, _in(30)) for n in range(10))
    )
    assert sum(results) == 3
