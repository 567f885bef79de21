"""The accelerators of this machine, and which instance holds each.

Found with `nvidia-smi` when it is installed (NVIDIA's own tool: no library to load), or
described by FORETELL_GPUS (names separated by commas, e.g. `NVIDIA A100 80GB,NVIDIA A100
80GB`) to simulate an inventory, as the tests do on machines without a GPU. Each instance of
a model whose cog.yaml says `build.gpu: true` (or whose deployment's hardware is a GPU sku:
then one of that kind) gets one accelerator of its own (`CUDA_VISIBLE_DEVICES`), so a model
is only placed where one is free; an instance that holds none sees none.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from foretell.core.models import hardware_sku

log = logging.getLogger("foretell.hardware")

#: what nvidia-smi is asked for, one line per GPU
_QUERY = ["--query-gpu=index,uuid,name,memory.total", "--format=csv,noheader,nounits"]


@dataclass(frozen=True)
class Accelerator:
    """One GPU."""

    index: int
    name: str
    uuid: str = ""
    memory_mb: int | None = None

    @property
    def sku(self) -> str:
        """Replicate-style hardware id: `gpu-` and the model, e.g. `gpu-a100-80gb`."""
        return hardware_sku(self.name)


def detect(env: Mapping[str, str] | None = None) -> list[Accelerator]:
    """This machine's GPUs: FORETELL_GPUS if set (a simulated inventory), else nvidia-smi's
    answer, else none."""
    source = os.environ if env is None else env
    simulated = source.get("FORETELL_GPUS")
    if simulated is not None:
        names = [name.strip() for name in simulated.split(",") if name.strip()]
        return [Accelerator(i, name, f"simulated-{i}") for i, name in enumerate(names)]
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return []
    try:
        result = subprocess.run(
            [tool, *_QUERY], capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("nvidia-smi could not list the GPUs: %s", exc)
        return []
    return parse_nvidia_smi(result.stdout)


def parse_nvidia_smi(text: str) -> list[Accelerator]:
    """The GPUs in nvidia-smi's CSV answer (index, uuid, name, memory in MiB)."""
    found = []
    for line in text.splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) < 3 or not parts[0].isdigit():
            continue
        memory = int(parts[3]) if len(parts) > 3 and parts[3].isdigit() else None
        found.append(Accelerator(int(parts[0]), parts[2], parts[1], memory))
    return found


class AcceleratorPool:
    """The accelerators not held by an instance."""

    def __init__(self, accelerators: list[Accelerator]) -> None:
        self.accelerators = list(accelerators)
        self._free = list(accelerators)

    def __bool__(self) -> bool:
        """Whether this machine has any accelerator at all."""
        return bool(self.accelerators)

    def free(self, skus: Collection[str] | None = None) -> int:
        """How many are free (of those whose sku is in `skus`, if given)."""
        return len(self._matching(skus))

    def take(self, skus: Collection[str] | None = None) -> Accelerator | None:
        """A free accelerator (the lowest index; one whose sku is in `skus`, if given), or
        None."""
        matching = self._matching(skus)
        if not matching:
            return None
        self._free.remove(matching[0])
        return matching[0]

    def _matching(self, skus: Collection[str] | None) -> list[Accelerator]:
        return [a for a in self._free if skus is None or a.sku in skus]

    def give_back(self, accelerator: Accelerator) -> None:
        if accelerator in self.accelerators and accelerator not in self._free:
            self._free.append(accelerator)
            self._free.sort(key=lambda a: a.index)


def visible_devices(accelerator: Accelerator | None) -> dict[str, str]:
    """The environment that gives a worker `accelerator` and no other ("" hides them all)."""
    return {"CUDA_VISIBLE_DEVICES": "" if accelerator is None else str(accelerator.index)}
