"""Delivery: POST each outbox row, signed; retry with backoff and jitter; never lose one."""

from __future__ import annotations

import asyncio
import collections
import datetime
import functools
import logging
import random
import urllib.parse
from dataclasses import dataclass, replace

import httpx

from foretell.core.prediction import utcnow
from foretell.metrics import NO_METRICS, Recorder
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
    """The delivery loop: starts attempts as rows come due, each on its own task.

    Fair and bounded, so one account's failing or slow receivers never hold back another's:
    the store hands out due rows round-robin across accounts; at most MAX_IN_FLIGHT attempts
    run at once, PER_ACCOUNT of one account, PER_RECEIVER to one host; one at a time per
    prediction (its deliveries keep their order). Every attempt ends in a recorded outcome,
    whatever happens; a refusal that can't change (a URL that doesn't parse, an address
    the guard refuses) fails the row at once, with the reason.
    """

    POLL_S = 0.5
    #: the rows a poll returns are claimed for this long (times the request timeout): no
    #: other node's deliverer gets them meanwhile; the outcome, once saved, ends the hold
    HOLD_TIMEOUTS = 2
    MAX_IN_FLIGHT = 64
    PER_ACCOUNT = 16
    PER_RECEIVER = 4
    #: on close, attempts in flight get this long to finish (a shutdown's last webhooks,
    #: those of the predictions it failed, go out before it exits)
    CLOSE_WAIT_S = 3.0

    def __init__(self, store: Store, client: GuardedClient, policy: RetryPolicy) -> None:
        self.store = store
        self.client = client
        self.policy = policy
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: prediction id -> the attempt in flight for it
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        #: the row each attempt in flight sends, by prediction id
        self._sending: dict[str, WebhookDelivery] = {}
        self._per_account: collections.Counter[str] = collections.Counter()
        self._per_receiver: collections.Counter[str] = collections.Counter()
        #: counts each attempt's outcome (delivered, retry, failed)
        self.metrics: Recorder = NO_METRICS

    def wake(self) -> None:
        """New rows are waiting, or a slot came free."""
        self._wake.set()

    def start(self) -> None:
        """Begin delivering, including rows left over from before a restart."""
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        """Stop polling; attempts in flight get CLOSE_WAIT_S to finish. The rest are
        abandoned and their rows released: due again at once, for the next start or another
        node (held, they would wait out their hold first)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        attempts = list(self._in_flight.values())
        if attempts:
            await asyncio.wait(attempts, timeout=self.CLOSE_WAIT_S)
        abandoned = [self._sending[pid] for pid, task in self._in_flight.items() if not task.done()]
        for task in attempts:
            task.cancel()
        await asyncio.gather(*attempts, return_exceptions=True)
        try:
            await asyncio.gather(*(self.store.save_delivery(row) for row in abandoned))
        except Exception:  # held, they are sent once their hold has passed
            log.exception("could not release %d webhook rows on close", len(abandoned))

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._start_due()
            except Exception:  # a store hiccup must not stop deliveries for good
                log.exception("webhook delivery loop failed; retrying")
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that
            # arrives as the event is set (close() cancels attempts, which wake this loop)
            try:
                async with asyncio.timeout(self.POLL_S):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _start_due(self) -> None:
        free = self.MAX_IN_FLIGHT - len(self._in_flight)
        if free <= 0:
            return
        hold_s = self.HOLD_TIMEOUTS * self.policy.timeout_s
        due = await self.store.due_deliveries(
            utcnow(), free, exclude=tuple(self._in_flight), hold_s=hold_s
        )
        skipped: list[WebhookDelivery] = []
        for delivery in due:
            receiver = _receiver(delivery.url)
            if (
                len(self._in_flight) >= self.MAX_IN_FLIGHT
                or delivery.prediction_id in self._in_flight
                or self._per_account[delivery.account] >= self.PER_ACCOUNT
                or self._per_receiver[receiver] >= self.PER_RECEIVER
            ):
                skipped.append(delivery)
                continue
            self._per_account[delivery.account] += 1
            self._per_receiver[receiver] += 1
            task = asyncio.create_task(self._attempt(delivery))
            self._in_flight[delivery.prediction_id] = task
            self._sending[delivery.prediction_id] = delivery
            task.add_done_callback(functools.partial(self._finished, delivery, receiver))
        # not ours to send now: saved as they were, they are due again at once (for any node)
        await asyncio.gather(*(self.store.save_delivery(delivery) for delivery in skipped))

    def _finished(self, delivery: WebhookDelivery, receiver: str, _: object) -> None:
        self._in_flight.pop(delivery.prediction_id, None)
        self._sending.pop(delivery.prediction_id, None)
        self._per_account[delivery.account] -= 1
        self._per_receiver[receiver] -= 1
        self.wake()

    async def _attempt(self, delivery: WebhookDelivery) -> None:
        now = utcnow()
        status, error, permanent = None, None, False
        try:
            status = await self._post(delivery, now)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            permanent = _permanent(exc)
        outcome = self._outcome(delivery, status, error, now, permanent=permanent)
        self.metrics.webhook("retry" if outcome.status == "pending" else outcome.status)
        try:
            await self.store.save_delivery(outcome)
        except Exception:  # the row stays pending and due: it is attempted again
            log.exception("could not record webhook %s of %s", delivery.id, delivery.prediction_id)

    async def _post(self, delivery: WebhookDelivery, now: datetime.datetime) -> int:
        account = await self.store.ensure_account(delivery.account, delivery.account)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "foretell-webhooks",
            **signed_headers(account.webhook_secret, delivery.id, now, delivery.payload),
        }
        response = await asyncio.wait_for(
            self.client.request(
                "POST", delivery.url, content=delivery.payload, headers=headers,
                follow_redirects=False,  # Replicate doesn't follow webhook redirects
            ),
            self.policy.timeout_s,
        )  # fmt: skip
        await response.aclose()
        return response.status_code

    def _outcome(
        self,
        delivery: WebhookDelivery,
        status: int | None,
        error: str | None,
        now: datetime.datetime,
        *,
        permanent: bool = False,
    ) -> WebhookDelivery:
        attempts = delivery.attempts + 1
        if status is not None and 200 <= status < 300:
            return replace(
                delivery, status="delivered", attempts=attempts, last_status=status,
                last_error=None, finished_at=now,
            )  # fmt: skip
        if error is None:
            error = f"HTTP {status}"
        if permanent:
            return replace(
                delivery, status="failed", attempts=attempts, last_status=status,
                last_error=f"refused, not retried: {error}", finished_at=now,
            )  # fmt: skip
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


def _receiver(url: str) -> str:
    """The host a delivery goes to, for the per-receiver bound."""
    try:
        return urllib.parse.urlsplit(url).netloc.lower()
    except ValueError:
        return url


def _permanent(exc: Exception) -> bool:
    """Whether trying again can't help: the URL is malformed or its address is refused.
    A name that didn't resolve may resolve later, so that one is retried."""
    if isinstance(exc, BlockedURL):
        return not isinstance(exc.__cause__, OSError)
    return isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol | ValueError)
