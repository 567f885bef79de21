"""Instance counts, read from a runner at scrape time (gauges of live state are best read
when asked for): no hook in the autoscaler is needed for them. Cold boots are events, not
state: the runner reports each one to the Recorder as it ends (`Recorder.cold_boot`)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from foretell.metrics.recorder import Recorder


class _Instances(Protocol):
    @property
    def count(self) -> int: ...


class RunnerView(Protocol):
    """What this reads of a runner (foretell.runner.Runner)."""

    def instances(self, name: str) -> _Instances: ...


class InstanceProbe:
    """A scrape-time probe: each model's instance count."""

    def __init__(self, runner: RunnerView, models: Collection[str], metrics: Recorder) -> None:
        self.runner = runner
        self.models = models
        self.metrics = metrics

    def __call__(self) -> None:
        for name in self.models:
            try:
                count = self.runner.instances(name).count
            except KeyError:  # not added to the runner yet
                continue
            self.metrics.instances(name, count)
