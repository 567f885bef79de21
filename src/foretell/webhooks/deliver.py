"""Delivery: POST each outbox row, signed; retry with backoff and jitter; never lose one."""

from __future__ import annotations

import asyncio
import datetime
import logging
import random
from dataclasses import dataclass, replace

import httpx

from foretell.core.prediction import utcnow
from foretell.outbound import BlockedURL, GuardedClient
from foretell.store.protocol import Store, WebhookDelivery
from foretell.webhooks.sign import signed_headers

log = logging.getLogger("foretell.webhooks")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, for at most `max_age_s` after the row was written."""

    base_s: float = 1.0
    cap_s: float = 300.0
    max_age_s: float = 3600.0
    timeout_s: float = 10.0

    def delay(self, attempts: int) -> float:
        """Seconds before the next attempt: base·2^(n−1), capped, times 0.5–1.5."""
        return float(min(self.cap_s, self.base_s * 2 ** (attempts - 1)) * random.uniform(0.5, 1.5))


class Deliverer:
    """The delivery loop; wakes when rows are written, and otherwise every poll interval."""

    POLL_S = 0.5

    def __init__(self, store: Store, client: GuardedClient, policy: RetryPolicy) -> None:
        self.store = store
        self.client = client
        self.policy = policy
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """New rows are waiting."""
        self._wake.set()

    def start(self) -> None:
        """Begin delivering, including rows left over from before a restart."""
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            try:
                due = await self.store.due_deliveries(utcnow(), 50)
                if due:
                    await asyncio.gather(*(self._attempt(d) for d in due))
                    continue
            except Exception:  # a store hiccup must not stop deliveries for good
                log.exception("webhook delivery loop failed; retrying")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.POLL_S)
            except TimeoutError:
                pass

    async def _attempt(self, delivery: WebhookDelivery) -> None:
        account = await self.store.ensure_account(delivery.account, delivery.account)
        now = utcnow()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "foretell-webhooks",
            **signed_headers(account.webhook_secret, delivery.id, now, delivery.payload),
        }
        status, error = None, None
        try:
            response = await asyncio.wait_for(
                self.client.request(
                    "POST", delivery.url, content=delivery.payload, headers=headers,
                    follow_redirects=False,  # Replicate doesn't follow webhook redirects
                ),
                self.policy.timeout_s,
            )  # fmt: skip
            status = response.status_code
            await response.aclose()
        except (BlockedURL, httpx.HTTPError, TimeoutError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        await self.store.save_delivery(self._outcome(delivery, status, error, now))

    def _outcome(
        self,
        delivery: WebhookDelivery,
        status: int | None,
        error: str | None,
        now: datetime.datetime,
    ) -> WebhookDelivery:
        attempts = delivery.attempts + 1
        if status is not None and 200 <= status < 300:
            return replace(
                delivery, status="delivered", attempts=attempts, last_status=status,
                last_error=None, finished_at=now,
            )  # fmt: skip
        if error is None:
            error = f"HTTP {status}"
        age = (now - delivery.created_at).total_seconds()
        if age >= self.policy.max_age_s:
            return replace(
                delivery, status="failed", attempts=attempts, last_status=status,
                last_error=f"gave up after {attempts} attempts: {error}", finished_at=now,
            )  # fmt: skip
        next_at = now + datetime.timedelta(seconds=self.policy.delay(attempts))
        return replace(
            delivery,
            attempts=attempts,
            last_status=status,
            last_error=error,
            next_attempt_at=next_at,
        )
