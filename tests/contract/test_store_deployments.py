"""The Store contract for deployments, run against every engine (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime

import pytest

from foretell.core.deployments import (
    Configuration,
    Creator,
    Deployment,
    new_deployment,
    next_release,
)
from foretell.errors import InvalidCursor
from foretell.store import Store

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
ANN = Creator("user", "ann", "Ann")
CPU = Configuration("cpu", 0, 2)


def _deployment(n: int, owner: str = "ann", *, micro: int = 0) -> Deployment:
    at = T0 + datetime.timedelta(seconds=n, microseconds=micro)
    return new_deployment(owner, f"app-{n:03d}", "acme/echo", "v" * 64, CPU, ANN, at)


async def test_a_created_deployment_comes_back_equal(store: Store) -> None:
    """What is created is read back equal, times, creator and configuration included."""
    made = _deployment(1)
    assert await store.create_deployment(made)
    assert await store.get_deployment("ann", "app-001") == made
    assert await store.get_deployment("ann", "app-002") is None
    assert await store.get_deployment("bob", "app-001") is None


async def test_a_taken_name_is_refused_and_left_alone(store: Store) -> None:
    """Creating `owner/name` again returns False and keeps the first one; another owner may
    use the same name."""
    first = _deployment(1)
    assert await store.create_deployment(first)
    again = new_deployment("ann", "app-001", "acme/other", "w" * 64, CPU, ANN, T0)
    assert not await store.create_deployment(again)
    assert await store.get_deployment("ann", "app-001") == first
    assert await store.create_deployment(_deployment(1, owner="bob"))


async def test_saving_the_next_release_is_compare_and_set(store: Store) -> None:
    """An update writes release n+1 over release n only: a stale or skipped one is refused."""
    made = _deployment(1)
    await store.create_deployment(made)
    later = T0 + datetime.timedelta(minutes=1)
    second = next_release(
        made, version="w" * 64, configuration=Configuration("cpu", 1, 3), by=ANN, at=later
    )
    assert second.current_release.number == 2
    assert await store.save_deployment(second)
    assert await store.get_deployment("ann", "app-001") == second
    # a writer that read release 1 too, and lost the race
    rival = next_release(made, version=None, configuration=CPU, by=ANN, at=later)
    assert not await store.save_deployment(rival)
    skipped = next_release(
        next_release(second, version=None, configuration=CPU, by=ANN, at=later),
        version=None, configuration=CPU, by=ANN, at=later,
    )  # fmt: skip
    assert not await store.save_deployment(skipped)
    assert await store.get_deployment("ann", "app-001") == second


async def test_concurrent_updates_of_one_release_let_exactly_one_win(store: Store) -> None:
    """Many writers of the same next release at once: one is stored, the rest get False."""
    made = _deployment(1)
    await store.create_deployment(made)
    rivals = [
        next_release(made, version=None, configuration=Configuration("cpu", 0, k), by=ANN, at=T0)
        for k in range(1, 9)
    ]
    results = await asyncio.gather(*(store.save_deployment(r) for r in rivals))
    assert sorted(results) == [False] * 7 + [True]
    stored = await store.get_deployment("ann", "app-001")
    assert stored == rivals[results.index(True)]


async def test_a_deleted_deployment_is_gone(store: Store) -> None:
    """Delete removes it (its name is free again); deleting what isn't there is False; a
    save of a deleted one is False."""
    made = _deployment(1)
    await store.create_deployment(made)
    assert await store.delete_deployment("ann", "app-001")
    assert await store.get_deployment("ann", "app-001") is None
    assert not await store.delete_deployment("ann", "app-001")
    assert not await store.save_deployment(
        next_release(made, version=None, configuration=CPU, by=ANN, at=T0)
    )
    assert await store.create_deployment(made)


async def test_listing_is_newest_first_per_account_with_cursors(store: Store) -> None:
    """An account's deployments page newest first with next/previous cursors; None lists
    every account's."""
    for n in range(5):
        await store.create_deployment(_deployment(n))
    await store.create_deployment(_deployment(9, owner="bob"))
    first = await store.list_deployments("ann", limit=2)
    assert [d.name for d in first.items] == ["app-004", "app-003"]
    assert first.previous_cursor is None and first.next_cursor
    second = await store.list_deployments("ann", limit=2, cursor=first.next_cursor)
    assert [d.name for d in second.items] == ["app-002", "app-001"]
    third = await store.list_deployments("ann", limit=2, cursor=second.next_cursor)
    assert [d.name for d in third.items] == ["app-000"] and third.next_cursor is None
    assert third.previous_cursor
    back = await store.list_deployments("ann", limit=2, cursor=third.previous_cursor)
    assert [d.name for d in back.items] == ["app-002", "app-001"]
    everyone = await store.list_deployments(None, limit=10)
    assert [d.full_name for d in everyone.items][:2] == ["bob/app-009", "ann/app-004"]
    assert len(everyone.items) == 6
    assert (await store.list_deployments("carol", limit=10)).items == []


async def test_listing_orders_by_time_at_microsecond_precision(store: Store) -> None:
    """Deployments made within one second page in creation order (times compare exactly,
    a whole second included)."""
    await store.create_deployment(_deployment(1, micro=0))
    await store.create_deployment(_deployment(0, micro=999_999))
    page = await store.list_deployments("ann", limit=1)
    rest = await store.list_deployments("ann", limit=1, cursor=page.next_cursor)
    assert [d.name for d in page.items + rest.items] == ["app-001", "app-000"]


async def test_a_bad_deployments_cursor_is_invalid_cursor(store: Store) -> None:
    """A cursor this store did not hand out is InvalidCursor (a 400), not a crash."""
    with pytest.raises(InvalidCursor):
        await store.list_deployments("ann", limit=2, cursor="not-a-cursor")
