"""The metrics of one foretell process, in Prometheus's terms, over a registry of its own
(never the library's global one: tests and embedded servers each make theirs).

Counters and histograms are updated by the hooks (foretell.metrics.recorder) as things
happen; queue gauges are set just before a scrape, from the queue and the store
(`set_queues`), since no hook sees a prediction wait.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TypeVar, cast

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from foretell.core.prediction import Prediction

log = logging.getLogger("foretell.metrics")

_Labelled = TypeVar("_Labelled", Counter, Histogram)

#: the text exposition format's content type
CONTENT_TYPE = CONTENT_TYPE_LATEST

#: seconds: from a no-op model's milliseconds to a language model's minutes
PREDICT_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,
)  # fmt: skip
#: seconds: a worker process's start to a large model's first load
BOOT_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)


class Metrics:
    """foretell_* metrics (plus the process's own: memory, CPU, open files)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self._probes: list[Callable[[], None]] = []
        self._children: dict[tuple[int, tuple[str, ...]], Counter | Histogram] = {}
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self._created = Counter(
            "foretell_predictions_queued", "Predictions created (and queued) on this API node.",
            ["model"], registry=r,
        )  # fmt: skip
        self._ended = Counter(
            "foretell_predictions", "Predictions ended here, by terminal status.",
            ["model", "status"], registry=r,
        )  # fmt: skip
        self._predict = Histogram(
            "foretell_predict_seconds", "predict() time of predictions ended here.",
            ["model"], buckets=PREDICT_BUCKETS, registry=r,
        )  # fmt: skip
        self._queue = Histogram(
            "foretell_queue_seconds", "Time from created to started, of predictions ended here.",
            ["model"], buckets=PREDICT_BUCKETS, registry=r,
        )  # fmt: skip
        self._boot = Histogram(
            "foretell_cold_boot_seconds", "Time an instance took to be ready when none ran.",
            ["model"], buckets=BOOT_BUCKETS, registry=r,
        )  # fmt: skip
        self._instances = Gauge(
            "foretell_instances", "Instances of the model running on this runner.",
            ["model"], registry=r,
        )  # fmt: skip
        self._webhooks = Counter(
            "foretell_webhook_deliveries", "Webhook delivery attempts, by outcome.",
            ["outcome"], registry=r,
        )  # fmt: skip
        self._sse = Gauge(
            "foretell_sse_connections", "Server-Sent Events streams open now.", registry=r
        )
        self._depth = Gauge(
            "foretell_queue_depth", "Predictions of the model waiting in the queue.",
            ["model"], registry=r,
        )  # fmt: skip
        self._oldest = Gauge(
            "foretell_queue_oldest_seconds",
            "Age of the model's oldest prediction not yet started (0: none waits).",
            ["model"], registry=r,
        )  # fmt: skip

    # ---- the hooks (foretell.metrics.recorder.Recorder) ---------------------------------

    def created(self, model: str) -> None:
        self._child(self._created, model).inc()

    def ended(self, prediction: Prediction) -> None:
        model = prediction.model
        self._child(self._ended, model, prediction.status.value).inc()
        took = prediction.metrics.get("predict_time") if prediction.metrics else None
        if prediction.started_at is not None:
            waited = (prediction.started_at - prediction.created_at).total_seconds()
            self._child(self._queue, model).observe(max(0.0, waited))
            if isinstance(took, int | float):
                self._child(self._predict, model).observe(float(took))

    def _child(self, metric: _Labelled, *values: str) -> _Labelled:
        """`metric.labels(*values)`, kept: the library's lookup (a lock and label checks)
        is most of a counter's cost, and these run for every prediction. Never cleared:
        these metrics' children live as long as the process, as in the library."""
        key = (id(metric), values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return cast(_Labelled, child)

    def webhook(self, outcome: str) -> None:
        self._webhooks.labels(outcome).inc()

    def sse(self, delta: int) -> None:
        self._sse.inc(delta)

    def cold_boot(self, model: str, seconds: float) -> None:
        self._boot.labels(model).observe(seconds)

    def instances(self, model: str, count: int) -> None:
        self._instances.labels(model).set(count)

    # ---- at scrape time -----------------------------------------------------------------

    def set_queues(self, depths: Mapping[str, int], oldest_s: Mapping[str, float]) -> None:
        """The queue gauges, now: exactly the models given (a model gone is dropped); the
        oldest's age only where it is known."""
        self._depth.clear()
        self._oldest.clear()
        for model, depth in depths.items():
            self._depth.labels(model).set(depth)
        for model, age in oldest_s.items():
            self._oldest.labels(model).set(age)

    def add_probe(self, probe: Callable[[], None]) -> None:
        """Call `probe` at each scrape, before the exposition (it sets gauges of live state,
        such as foretell.metrics.instances.InstanceProbe)."""
        self._probes.append(probe)

    def exposition(self) -> bytes:
        """Every metric in Prometheus's text format."""
        for probe in self._probes:
            try:
                probe()
            except Exception:  # a scrape shows what it can
                log.exception("a metrics probe failed")
        return generate_latest(self.registry)
