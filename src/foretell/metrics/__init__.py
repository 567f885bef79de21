"""Prometheus metrics: the Recorder protocol the counting places call (a no-op by
default) and the Metrics that one process keeps and `/metrics` exports."""

from foretell.metrics.prometheus import CONTENT_TYPE, Metrics
from foretell.metrics.recorder import NO_METRICS, NoMetrics, Recorder

__all__ = ["CONTENT_TYPE", "NO_METRICS", "Metrics", "NoMetrics", "Recorder"]
