"""The dispatcher ends every prediction, whichever step fails or is canceled (fakes, no sleeps)."""

from __future__ import annotations

import asyncio
import datetime
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from foretell.core.events import Done, Output, Started
from foretell.core.prediction import Prediction
from foretell.core.status import Status
from foretell.files.local import LocalFiles
from foretell.runner.dispatch import Dispatcher
from foretell.runner.errors import UnknownModel
from foretell.runner.handle import PredictionHandle
from foretell.runner.spec import PredictionRequest
from foretell.store.sqlite import SQLiteStore

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


class FakeRunner:
    """Hands out handles the test drives; can fail at submit."""

    def __init__(self) -> None:
        self.handles: dict[str, PredictionHandle] = {}
        self.requests: dict[str, PredictionRequest] = {}
        self.submitted = asyncio.Event()
        self.canceled: list[str] = []
        self.fail_submit: Exception | None = None

    async def submit(self, name: str, request: PredictionRequest) -> PredictionHandle:
        if self.fail_submit is not None:
            raise self.fail_submit
        handle = PredictionHandle(request.id)
        self.handles[request.id] = handle
        self.requests[request.id] = request
        self.submitted.set()
        return handle

    async def cancel(self, prediction_id: str) -> bool:
        handle = self.handles.get(prediction_id)
        if handle is None or handle.finished:
            return False
        self.canceled.append(prediction_id)
        handle.deliver(Done(prediction_id, "canceled"))
        return True


class FakeOutbound:
    """A download that fails, or waits until released."""

    def __init__(self) -> None:
        self.fail: Exception | None = None
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def download(self, url: str, target: pathlib.Path) -> pathlib.Path:
        self.started.set()
        if self.fail is not None:
            raise self.fail
        await self.release.wait()
        target.write_bytes(b"data")
        return target


@pytest.fixture
async def store(tmp_path: pathlib.Path) -> AsyncIterator[SQLiteStore]:
    engine = SQLiteStore(tmp_path / "foretell.db")
    await engine.open()
    yield engine
    await engine.close()


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner()


@pytest.fixture
def outbound() -> FakeOutbound:
    return FakeOutbound()


@pytest.fixture
async def dispatcher(
    store: SQLiteStore, runner: FakeRunner, outbound: FakeOutbound, tmp_path: pathlib.Path
) -> AsyncIterator[Dispatcher]:
    files = LocalFiles(tmp_path / "files")
    yield Dispatcher(runner, store, files, outbound)  # type: ignore[arg-type]


async def _stored(store: SQLiteStore, n: int = 1) -> Prediction:
    prediction = Prediction(
        id=f"p{n}", account="ann", model="acme/echo", version="v" * 64, input={}, created_at=T0
    )
    await store.create_prediction(prediction)
    return prediction


async def _ended(dispatcher: Dispatcher, store: SQLiteStore, pid: str) -> Prediction:
    dispatcher.expect(pid)
    await dispatcher.wait(pid, 10)
    stored = await store.get_prediction("ann", pid)
    assert stored is not None
    return stored


async def test_a_download_that_raises_anything_fails_the_prediction(
    dispatcher: Dispatcher, store: SQLiteStore, outbound: FakeOutbound
) -> None:
    """Any exception while downloading an input (here a bad port) ends it failed, with why."""
    outbound.fail = ValueError("Port out of range 0-65535")
    p = await _stored(store)
    dispatcher.submit(p, "acme/echo", {}, ("http://127.0.0.1:99999/x",))
    ended = await _ended(dispatcher, store, p.id)
    assert ended.status is Status.FAILED
    assert ended.error is not None
    assert "Could not download the input file http://127.0.0.1:99999/x" in ended.error
    assert "Port out of range" in ended.error


async def test_a_runner_that_raises_fails_the_prediction(
    dispatcher: Dispatcher, store: SQLiteStore, runner: FakeRunner
) -> None:
    """An unknown model or an unexpected error at submit ends the prediction failed."""
    for n, error in enumerate([UnknownModel("acme/echo"), RuntimeError("boom")]):
        runner.fail_submit = error
        p = await _stored(store, n)
        dispatcher.submit(p, "acme/echo", {})
        ended = await _ended(dispatcher, store, p.id)
        assert ended.status is Status.FAILED
        assert ended.error and ("not running" in ended.error or "RuntimeError: boom" in ended.error)


async def test_an_output_that_cannot_be_kept_fails_the_prediction_and_stops_it(
    dispatcher: Dispatcher, store: SQLiteStore, runner: FakeRunner
) -> None:
    """A streamed output file that is missing fails the prediction; the runner is told to stop."""
    p = await _stored(store)
    dispatcher.submit(p, "acme/echo", {})
    await runner.submitted.wait()
    handle = runner.handles[p.id]
    handle.deliver(Started(p.id))
    handle.deliver(Output(p.id, "/nonexistent/out.png", files=[[]]))
    ended = await _ended(dispatcher, store, p.id)
    assert ended.status is Status.FAILED
    assert ended.error and "could not keep" in ended.error
    assert runner.canceled == [p.id]


async def test_a_final_output_that_cannot_be_kept_fails_the_prediction(
    dispatcher: Dispatcher, store: SQLiteStore, runner: FakeRunner
) -> None:
    """Done with a missing output file ends failed, not processing."""
    p = await _stored(store)
    dispatcher.submit(p, "acme/echo", {})
    await runner.submitted.wait()
    handle = runner.handles[p.id]
    handle.deliver(Started(p.id))
    handle.deliver(Done(p.id, "succeeded", output="/nonexistent/out.png", files=[[]]))
    ended = await _ended(dispatcher, store, p.id)
    assert ended.status is Status.FAILED
    assert ended.error and "could not keep this prediction's output" in ended.error


async def test_a_failed_save_is_retried_by_the_flusher(
    dispatcher: Dispatcher, store: SQLiteStore, runner: FakeRunner, monkeypatch: Any
) -> None:
    """If the store refuses the final state once, it is written on the next flush."""
    p = await _stored(store)
    dispatcher.submit(p, "acme/echo", {})
    await runner.submitted.wait()
    real = store.transition
    calls = 0

    async def flaky(prediction: Prediction, states: Any, deliveries: Any = ()) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk full")
        return await real(prediction, states, deliveries)

    monkeypatch.setattr(store, "transition", flaky)
    runner.handles[p.id].deliver(Done(p.id, "succeeded", output="ok"))
    await dispatcher.wait(p.id, 10)
    assert dispatcher.get(p.id) is not None  # kept until it is saved
    await dispatcher.copies.flush()
    stored = await store.get_prediction("ann", p.id)
    assert stored is not None and stored.status is Status.SUCCEEDED
    assert dispatcher.get(p.id) is None


async def test_cancel_while_downloading_ends_it(
    dispatcher: Dispatcher, store: SQLiteStore, outbound: FakeOutbound, runner: FakeRunner
) -> None:
    """A prediction canceled while its inputs download ends canceled and never runs."""
    p = await _stored(store)
    dispatcher.submit(p, "acme/echo", {}, ("https://example.com/in.png",))
    await outbound.started.wait()
    await dispatcher.cancel(p)
    ended = await _ended(dispatcher, store, p.id)
    assert ended.status is Status.CANCELED
    assert runner.handles == {}


async def test_cancel_before_it_reaches_the_dispatcher_ends_it_for_good(
    dispatcher: Dispatcher, store: SQLiteStore, runner: FakeRunner
) -> None:
    """A canceled prediction that is still queued ends at once, and is skipped when it comes."""
    p = await _stored(store)
    await dispatcher.cancel(p, "changed my mind")
    stored = await store.get_prediction("ann", p.id)
    assert stored is not None and stored.status is Status.CANCELED
    assert stored.error == "changed my mind"
    dispatcher.submit(p, "acme/echo", {})
    assert runner.handles == {} and dispatcher.get(p.id) is None


async def test_cancel_while_running_goes_through_the_runner(
    dispatcher: Dispatcher, store: SQLiteStore, runner: FakeRunner
) -> None:
    """A running prediction is canceled by its runner and ends canceled."""
    p = await _stored(store)
    dispatcher.submit(p, "acme/echo", {})
    await runner.submitted.wait()
    runner.handles[p.id].deliver(Started(p.id))
    await dispatcher.cancel(p)
    ended = await _ended(dispatcher, store, p.id)
    assert ended.status is Status.CANCELED and runner.canceled == [p.id]


async def test_drain_fails_what_is_still_running_after_the_grace_period(
    dispatcher: Dispatcher, store: SQLiteStore, runner: FakeRunner
) -> None:
    """On shutdown, a prediction that doesn't finish in time ends failed with the reason."""
    p = await _stored(store)
    dispatcher.submit(p, "acme/echo", {})
    await runner.submitted.wait()
    runner.handles[p.id].deliver(Started(p.id))
    force = asyncio.Event()
    force.set()
    await dispatcher.drain(30, "The server shut down.", force)
    stored = await store.get_prediction("ann", p.id)
    assert stored is not None and stored.status is Status.FAILED
    assert stored.error == "The server shut down."
