"""The runner's Consumer with the API's PredictionService: a claimed prediction runs and ends,
whichever step fails (real SQLite, in-process queue and bus, a fake runner; no sleeps)."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from foretell.api.service import PredictionService
from foretell.core.events import Done, Output, Started
from foretell.core.prediction import Prediction, finish
from foretell.core.status import OPEN, Status
from foretell.core.times import utcnow
from foretell.runner.errors import UnknownModel
from foretell.streaming.memory import MemoryBus
from tests.runner.seam import MODEL, Seam, open_seam


@pytest.fixture
async def seam(tmp_path: pathlib.Path) -> AsyncIterator[Seam]:
    async with open_seam(tmp_path) as opened:
        yield opened


async def test_a_prediction_runs_and_its_end_is_stored_before_done(seam: Seam) -> None:
    """The happy path: claimed, started, succeeded; `wait` returns once it is stored."""
    p = await seam.create()
    handle = await seam.runner.running(p.id)
    handle.deliver(Started(p.id))
    handle.deliver(Done(p.id, "succeeded", output="hi"))
    ended = await seam.ended(p.id)
    assert ended.status is Status.SUCCEEDED and ended.output == "hi"


async def test_with_an_instance_up_the_claim_writes_the_start(seam: Seam) -> None:
    """Claimed for a free slot of a running instance: it is `processing` in the store
    before the worker's Started (one write for the claim and the start), and ends as usual."""
    seam.runner.up = True
    p = await seam.create()
    handle = await seam.runner.running(p.id)
    stored = await seam.store.get_prediction("ann", p.id)
    assert stored is not None and stored.status is Status.PROCESSING
    assert stored.started_at is not None
    handle.deliver(Started(p.id))
    handle.deliver(Done(p.id, "succeeded", output="hi"))
    ended = await seam.ended(p.id)
    assert ended.status is Status.SUCCEEDED and ended.started_at == stored.started_at


async def test_a_download_that_raises_anything_fails_the_prediction(seam: Seam) -> None:
    """Any exception while downloading an input (here a bad port) ends it failed, with why."""
    seam.outbound.fail = ValueError("Port out of range 0-65535")
    p = await seam.create(remote=("http://127.0.0.1:99999/x",))
    ended = await seam.ended(p.id)
    assert ended.status is Status.FAILED and ended.error is not None
    assert "Could not download the input file http://127.0.0.1:99999/x" in ended.error
    assert "Port out of range" in ended.error


async def test_a_runner_that_raises_fails_the_prediction(seam: Seam) -> None:
    """An unknown model or an unexpected error at submit ends the prediction failed."""
    for n, error in enumerate([UnknownModel(MODEL), RuntimeError("boom")]):
        seam.runner.fail_submit = error
        p = await seam.create(n)
        ended = await seam.ended(p.id)
        assert ended.status is Status.FAILED
        assert ended.error and ("not running" in ended.error or "RuntimeError: boom" in ended.error)


async def test_an_output_that_cannot_be_kept_fails_the_prediction_and_stops_it(
    seam: Seam,
) -> None:
    """A streamed output file that is missing fails the prediction; the runner is told to stop."""
    p = await seam.create()
    handle = await seam.runner.running(p.id)
    handle.deliver(Started(p.id))
    handle.deliver(Output(p.id, "/nonexistent/out.png", files=[[]]))
    ended = await seam.ended(p.id)
    assert ended.status is Status.FAILED
    assert ended.error and "could not keep" in ended.error
    assert seam.runner.canceled == [p.id]


async def test_a_final_output_that_cannot_be_kept_fails_the_prediction(seam: Seam) -> None:
    """Done with a missing output file ends failed, not processing."""
    p = await seam.create()
    handle = await seam.runner.running(p.id)
    handle.deliver(Started(p.id))
    handle.deliver(Done(p.id, "succeeded", output="/nonexistent/out.png", files=[[]]))
    ended = await seam.ended(p.id)
    assert ended.error and "could not keep this prediction's output" in ended.error


async def test_a_failed_save_is_retried_by_the_flusher(
    seam: Seam, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the store refuses the final state once, it is written on the next flush."""
    p = await seam.create()
    handle = await seam.runner.running(p.id)
    real = seam.store.transition
    calls = 0

    async def flaky(prediction: Prediction, states: Any, deliveries: Any = ()) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk full")
        return await real(prediction, states, deliveries)

    monkeypatch.setattr(seam.store, "transition", flaky)
    handle.deliver(Done(p.id, "succeeded", output="ok"))
    await seam.service.wait("ann", p.id, 10)
    copies = seam.consumer.context.copies
    assert p.id in copies.by_id  # kept until it is saved
    await copies.flush()
    stored = await seam.store.get_prediction("ann", p.id)
    assert stored is not None and stored.status is Status.SUCCEEDED
    assert p.id not in copies.by_id


async def test_the_next_one_is_claimed_when_a_slot_frees(seam: Seam) -> None:
    """One slot: the second prediction starts once the first has ended."""
    first, second = await seam.create(1), await seam.create(2)
    (await seam.runner.running(first.id)).deliver(Done(first.id, "succeeded"))
    (await seam.runner.running(second.id)).deliver(Done(second.id, "succeeded"))
    assert (await seam.ended(second.id)).status is Status.SUCCEEDED


async def test_wait_returns_for_a_finished_prediction_the_bus_let_go_of(
    seam: Seam, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A waiter that comes after the bus dropped a finished prediction's events learns from
    the store that it ended, instead of waiting out its timeout."""
    monkeypatch.setattr("foretell.api.service.RECHECK_S", 0.01)
    seam.runner.slots = 0
    p = await seam.create()
    final = await seam.store.request_cancel(p.id, None)
    assert final is not None
    await seam.store.transition(finish(final.prediction, Status.CANCELED, utcnow()), OPEN)
    quiet = PredictionService(seam.store, seam.queue, MemoryBus())  # a bus that kept nothing
    async with asyncio.timeout(5):
        await quiet.wait("ann", p.id, 60)
