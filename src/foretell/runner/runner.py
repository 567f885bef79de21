"""Runner: the asyncio API over every model this machine hosts."""

from __future__ import annotations

import os
import pathlib
import secrets
import shutil
import socket
import tempfile
from collections.abc import Callable, KeysView
from types import TracebackType
from typing import Any

from foretell.runner.errors import UnknownModel
from foretell.runner.handle import PredictionHandle
from foretell.runner.hardware import Accelerator, AcceleratorPool, detect
from foretell.runner.instances import CannotStartHere, ColdBoot, ModelInstances, Places
from foretell.runner.spec import ModelSpec, PredictionRequest, StateInfo, WorkerState

_PREFIX = "foretell-runner-"
_OWNER = "owner.pid"


def remove_stale_scratch(scratch_dir: pathlib.Path | None = None) -> None:
    """Remove the scratch directories of runners whose process is gone (killed with -9,
    say: a clean close removes its own). Directories without an owner are left alone."""
    root = pathlib.Path(scratch_dir or tempfile.gettempdir())
    for directory in root.glob(_PREFIX + "*"):
        try:
            owner = int((directory / _OWNER).read_text())
        except (OSError, ValueError):
            continue
        if owner != os.getpid() and not _alive(owner):
            shutil.rmtree(directory, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class Runner:
    """Hosts models in worker subprocesses; submit predictions and read their events.

    Use as `async with Runner() as runner:`; closing stops every worker and removes the
    runner's scratch directory (inputs of crashed predictions included).
    """

    def __init__(
        self,
        scratch_dir: pathlib.Path | None = None,
        accelerators: list[Accelerator] | None = None,
    ) -> None:
        remove_stale_scratch(scratch_dir)
        self.scratch = pathlib.Path(tempfile.mkdtemp(prefix=_PREFIX, dir=scratch_dir))
        (self.scratch / _OWNER).write_text(str(os.getpid()))
        self._models: dict[str, ModelInstances] = {}
        #: this machine's GPUs (detected unless given), shared by every model's instances
        self.accelerators = AcceleratorPool(detect() if accelerators is None else accelerators)
        #: told of each cold boot (model, seconds); set before models are added
        self.on_cold_boot: Callable[[str, float], None] | None = None
        #: the cluster's instance places (set before models are added; None: no cap)
        self.places: Places | None = None
        #: names this runner's instances in the places table (unique per process)
        self.holder_prefix = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"

    async def __aenter__(self) -> Runner:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def add_model(self, spec: ModelSpec, *, defer_setup: bool = False) -> None:
        """Start hosting `spec`; returns once its worker is spawned (state `starting`).

        With `defer_setup`, setup() waits for `start_setup()` — so a caller can check
        inputs against the schema before any model code beyond the import runs.
        """
        if spec.name in self._models:
            raise ValueError(f"model {spec.name!r} is already hosted")
        model = ModelInstances(
            spec, self.scratch / spec.name.replace("/", "--"), accelerators=self.accelerators,
            places=self.places, holder_prefix=self.holder_prefix,
        )  # fmt: skip
        model.on_cold_boot = self.on_cold_boot
        self._models[spec.name] = model
        try:
            await model.add(defer_setup=defer_setup)
        except CannotStartHere:  # described, at zero instances until it can start here
            pass

    @property
    def model_names(self) -> KeysView[str]:
        """The hosted models' names: a live view (models added later are in it)."""
        return self._models.keys()

    def cold_boot(self, name: str) -> ColdBoot | None:
        """The model's last cold boot (an instance started when none ran), if any."""
        return self._model(name).cold_boot

    def instances(self, name: str) -> ModelInstances:
        """The model's instances, for scaling them (foretell.runner.autoscale)."""
        return self._model(name)

    def _model(self, name: str) -> ModelInstances:
        try:
            return self._models[name]
        except KeyError:
            raise UnknownModel(name) from None

    async def wait_described(self, name: str) -> dict[str, Any]:
        """The model's OpenAPI schema; raises ModelLoadError if it can't be imported."""
        return await self._model(name).described()

    def start_setup(self, name: str) -> None:
        """Begin a deferred setup()."""
        self._model(name).start_setup()

    async def wait_ready(self, name: str) -> WorkerState:
        """Wait until the model is ready, or has failed setup or become defunct."""
        return await self._model(name).settled()

    def state(self, name: str) -> WorkerState:
        """The model's worker state."""
        return self._model(name).state

    def state_info(self, name: str) -> StateInfo:
        """The model's state with error, setup logs, restarts and queue length."""
        return self._model(name).info()

    def schema(self, name: str) -> dict[str, Any] | None:
        """The model's schema, once described."""
        return self._model(name).schema

    def capacity(self, name: str) -> int:
        """How many predictions the model can take now (its slots once it runs; 0 while it
        starts): the consumer claims work only up to this."""
        return self._model(name).capacity()

    def starts_now(self, name: str) -> bool:
        """Whether a prediction claimed for a free slot of the model starts at once (no
        instance to boot first): its claim may write its start too."""
        return self._model(name).starts_now()

    async def submit(self, name: str, request: PredictionRequest) -> PredictionHandle:
        """Queue a prediction; it waits in order while every slot is busy."""
        return self._model(name).submit(request)

    async def cancel(self, prediction_id: str) -> bool:
        """Cancel a queued or running prediction; False if no model has it."""
        return any(model.cancel(prediction_id) for model in self._models.values())

    async def remove_model(self, name: str) -> None:
        """Stop hosting `name` (its workers stop; what they ran fails as a crash would)."""
        model = self._models.pop(name, None)
        if model is not None:
            await model.close()

    async def close(self) -> None:
        """Stop every worker and remove the scratch directory."""
        for model in self._models.values():
            await model.close()
        self._models.clear()
        shutil.rmtree(self.scratch, ignore_errors=True)

    @classmethod
    async def describe(cls, spec: ModelSpec) -> dict[str, Any]:
        """Import a model in a worker just to read its schema; setup() never runs."""
        async with cls() as runner:
            await runner.add_model(spec, defer_setup=True)
            return await runner.wait_described(spec.name)
