"""Instance counts and cold boots, read from a runner at scrape time (gauges of live state
are best read when asked for): no hook in the autoscaler is needed for them."""

from __future__ import annotations

import datetime
from collections.abc import Collection
from typing import Protocol

from foretell.metrics.recorder import Recorder


class _Instances(Protocol):
    @property
    def count(self) -> int: ...


class _Boot(Protocol):
    @property
    def started_at(self) -> datetime.datetime: ...

    @property
    def seconds(self) -> float: ...


class RunnerView(Protocol):
    """What this reads of a runner (foretell.runner.Runner)."""

    def instances(self, name: str) -> _Instances: ...

    def cold_boot(self, name: str) -> _Boot | None: ...


class InstanceProbe:
    """A scrape-time probe: each model's instance count, and each cold boot once (a model
    boots from zero at most once per idle period, far apart next to a scrape interval)."""

    def __init__(self, runner: RunnerView, models: Collection[str], metrics: Recorder) -> None:
        self.runner = runner
        self.models = models
        self.metrics = metrics
        self._seen: dict[str, datetime.datetime] = {}

    def __call__(self) -> None:
        for name in self.models:
            try:
                count = self.runner.instances(name).count
                boot = self.runner.cold_boot(name)
            except KeyError:  # not added to the runner yet
                continue
            self.metrics.instances(name, count)
            if boot is not None and self._seen.get(name) != boot.started_at:
                self._seen[name] = boot.started_at
                self.metrics.cold_boot(name, boot.seconds)
