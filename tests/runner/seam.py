"""Both sides of the seam in one process for the consumer tests: the API's
PredictionService and the runner's Consumer over real SQLite and the in-process queue and bus,
with a fake runner and a fake download the tests drive."""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass

from foretell.api.service import PredictionService
from foretell.core.events import Done
from foretell.core.prediction import Prediction
from foretell.core.times import utcnow
from foretell.files.local import LocalFiles
from foretell.queue.memory import MemoryQueue
from foretell.queue.protocol import WorkItem
from foretell.runner.consumer import Consumer
from foretell.runner.execution import ExecutionContext
from foretell.runner.handle import PredictionHandle
from foretell.runner.live import LiveCopies
from foretell.runner.spec import PredictionRequest
from foretell.store.sqlite import SQLiteStore
from foretell.streaming.memory import MemoryBus

MODEL = "acme/echo"


class FakeRunner:
    """Hands out handles the test drives; `slots` free slots; can fail at submit."""

    def __init__(self) -> None:
        self.model_names: Collection[str] = [MODEL]
        self.slots = 1
        self.handles: dict[str, PredictionHandle] = {}
        self.requests: dict[str, PredictionRequest] = {}
        self.submitted = asyncio.Event()
        self.canceled: list[str] = []
        self.fail_submit: Exception | None = None
        #: an instance is up: a claim for a free slot starts it at once
        self.up = False

    def cold_boot(self, name: str) -> None:
        return None

    def starts_now(self, name: str) -> bool:
        return self.up

    def capacity(self, name: str) -> int:
        return self.slots

    async def submit(self, name: str, request: PredictionRequest) -> PredictionHandle:
        if self.fail_submit is not None:
            raise self.fail_submit
        handle = PredictionHandle(request.id)
        self.handles[request.id] = handle
        self.requests[request.id] = request
        self.submitted.set()
        return handle

    async def running(self, prediction_id: str) -> PredictionHandle:
        """The handle once the consumer submitted it."""
        while prediction_id not in self.handles:
            self.submitted.clear()
            await self.submitted.wait()
        return self.handles[prediction_id]

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


@dataclass
class Seam:
    store: SQLiteStore
    queue: MemoryQueue
    service: PredictionService
    consumer: Consumer
    runner: FakeRunner
    outbound: FakeOutbound
    clock: list[float]

    async def create(self, n: int = 1, remote: tuple[str, ...] = ()) -> Prediction:
        prediction = Prediction(
            id=f"p{n}", account="ann", model=MODEL, version="v" * 64, input={},
            created_at=utcnow(),
        )  # fmt: skip
        await self.service.create(WorkItem(prediction, MODEL, remote_files=remote))
        return prediction

    async def ended(self, prediction_id: str) -> Prediction:
        await self.service.wait("ann", prediction_id, 10)
        stored = await self.store.get_prediction("ann", prediction_id)
        assert stored is not None and stored.status.is_terminal, stored
        return stored


@contextlib.asynccontextmanager
async def open_seam(tmp_path: pathlib.Path) -> AsyncIterator[Seam]:
    """Real SQLite, the in-process queue and bus, a fake runner; the consumer started."""
    store = SQLiteStore(tmp_path / "foretell.db")
    await store.open()
    clock = [0.0]
    queue = MemoryQueue(clock=lambda: clock[0])
    bus = MemoryBus()
    runner, outbound = FakeRunner(), FakeOutbound()
    context = ExecutionContext(
        bus, LiveCopies(store, lambda: None), LocalFiles(tmp_path / "files"), outbound,
        tmp_path / "scratch",
    )  # fmt: skip
    consumer = Consumer(
        runner,  # type: ignore[arg-type]
        queue, store, bus, context, "runner-a", lambda _: None,
    )  # fmt: skip
    consumer.start()
    yield Seam(
        store, queue, PredictionService(store, queue, bus), consumer, runner, outbound, clock
    )
    await consumer.close()
    await store.close()
