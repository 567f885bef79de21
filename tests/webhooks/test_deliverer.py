"""The delivery loop with a fake HTTP client: every attempt is recorded, receivers are isolated."""

from __future__ import annotations

import asyncio
import datetime
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from foretell.core.prediction import utcnow
from foretell.outbound import BlockedURL
from foretell.store.protocol import WebhookDelivery
from foretell.store.sqlite import SQLiteStore
from foretell.webhooks import Deliverer, RetryPolicy


class FakeClient:
    """Answers 200, raises, or hangs until released, by URL."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.hanging = 0
        #: set when a request starts to hang
        self.hung = asyncio.Event()
        self.delivered: list[str] = []
        self.arrived = asyncio.Condition()

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if "bad-port" in url:
            raise ValueError("Port out of range 0-65535")
        if "blocked" in url:
            raise BlockedURL(f"{url!r}: private, loopback and link-local addresses are not allowed")
        if "dns" in url:
            raise BlockedURL("can't resolve 'dns.example'") from OSError("no name")
        if "bug" in url:
            raise RuntimeError("unexpected")
        if "hang" in url:
            self.hanging += 1
            self.hung.set()
            await self.release.wait()
        async with self.arrived:
            self.delivered.append(url)
            self.arrived.notify_all()
        return httpx.Response(200)

    async def wait_delivered(self, url: str) -> None:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: url in self.delivered), 10)


@pytest.fixture
async def store(tmp_path: pathlib.Path) -> AsyncIterator[SQLiteStore]:
    engine = SQLiteStore(tmp_path / "foretell.db")
    await engine.open()
    yield engine
    await engine.close()


def _row(n: int, url: str, account: str = "ann", prediction: str | None = None) -> WebhookDelivery:
    now = utcnow() - datetime.timedelta(seconds=1)
    return WebhookDelivery(
        id=f"msg_{n:04d}",
        prediction_id=prediction or f"p{n:04d}",
        account=account,
        url=url,
        event="completed",
        payload=b"{}",
        created_at=now,
        next_attempt_at=now,
    )


@pytest.fixture
async def client() -> FakeClient:
    return FakeClient()


@pytest.fixture
async def deliverer(store: SQLiteStore, client: FakeClient) -> AsyncIterator[Deliverer]:
    d = Deliverer(store, client, RetryPolicy(base_s=60))  # type: ignore[arg-type]
    d.start()
    yield d
    client.release.set()
    await d.close()


async def _outcome(store: SQLiteStore, row: WebhookDelivery) -> WebhookDelivery:
    for _ in range(500):
        [current] = [
            d for d in await store.list_deliveries(row.account, row.prediction_id) if d.id == row.id
        ]
        if current.attempts:
            return current
        await asyncio.sleep(0.02)  # polling the store with a deadline
    raise AssertionError(f"{row.id} was never attempted")


async def test_one_accounts_hanging_receivers_do_not_delay_another_account(
    store: SQLiteStore, client: FakeClient, deliverer: Deliverer
) -> None:
    """60 webhooks to a receiver that never answers don't hold back another account's."""
    for n in range(60):
        await store.add_delivery(_row(n, f"https://hang{n % 3}.example/hook", account="mallory"))
    deliverer.wake()
    await store.add_delivery(_row(100, "https://ok.example/hook", account="ann"))
    deliverer.wake()
    await client.wait_delivered("https://ok.example/hook")
    assert client.hanging <= 3 * Deliverer.PER_RECEIVER  # bounded per receiver
    assert not client.release.is_set()  # the others are still hanging


async def test_a_delivery_that_raises_is_recorded_and_never_blocks_the_next(
    store: SQLiteStore, client: FakeClient, deliverer: Deliverer
) -> None:
    """A URL that can't be used fails at once with the reason; the prediction's next row goes."""
    bad = _row(1, "http://127.0.0.1:bad-port/x", prediction="p1")
    nxt = _row(2, "https://ok.example/next", prediction="p1")
    await store.add_delivery(bad)
    await store.add_delivery(nxt)
    deliverer.wake()
    await client.wait_delivered("https://ok.example/next")
    failed = await _outcome(store, bad)
    assert failed.status == "failed" and failed.attempts == 1
    assert failed.last_error and "Port out of range" in failed.last_error


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("https://blocked.example/", "failed"),  # the guard refused the address: final
        ("https://dns.example/", "pending"),  # a name that didn't resolve may later
        ("https://bug.example/", "pending"),  # anything unexpected: recorded, retried
    ],
)
async def test_every_attempt_ends_in_a_recorded_outcome(
    store: SQLiteStore, deliverer: Deliverer, url: str, status: str
) -> None:
    """Whatever an attempt raises, its outcome and reason are stored."""
    row = _row(1, url)
    await store.add_delivery(row)
    deliverer.wake()
    outcome = await _outcome(store, row)
    assert outcome.status == status and outcome.last_error
    if status == "pending":
        assert outcome.next_attempt_at > utcnow()  # backed off, not due again at once


async def test_due_rows_are_handed_out_round_robin_across_accounts(store: SQLiteStore) -> None:
    """An account with a backlog can't fill the page: each account gets a turn."""
    for n in range(50):
        await store.add_delivery(_row(n, "https://a.example/", account="big"))
    await store.add_delivery(_row(99, "https://b.example/", account="small"))
    due = await store.due_deliveries(utcnow(), 5)
    assert "small" in {d.account for d in due}
    skipped = await store.due_deliveries(utcnow(), 100, exclude=["p0000"])
    assert "p0000" not in {d.prediction_id for d in skipped}


async def test_close_lets_an_attempt_in_flight_finish(store: SQLiteStore) -> None:
    """A shutdown's last webhooks (those of the predictions it failed) still go out."""
    client = FakeClient()
    deliverer = Deliverer(store, client, RetryPolicy(base_s=60))  # type: ignore[arg-type]
    row = _row(1, "https://hang.example/hook")
    await store.add_delivery(row)
    deliverer.start()
    await asyncio.wait_for(client.hung.wait(), 10)
    closing = asyncio.create_task(deliverer.close())
    client.release.set()
    await closing
    assert (await _outcome(store, row)).status == "delivered"


async def test_an_attempt_abandoned_at_close_is_due_again_at_once(store: SQLiteStore) -> None:
    """One that can't finish in time is released, not left held for the next start to
    wait out (it would be, for twice the request timeout)."""
    client = FakeClient()
    deliverer = Deliverer(store, client, RetryPolicy(base_s=60))  # type: ignore[arg-type]
    deliverer.CLOSE_WAIT_S = 0.01
    row = _row(1, "https://hang.example/hook")
    await store.add_delivery(row)
    deliverer.start()
    await asyncio.wait_for(client.hung.wait(), 10)
    await deliverer.close()
    due = await store.due_deliveries(utcnow(), 10, hold_s=60)
    assert [d.id for d in due] == [row.id] and due[0].attempts == 0
