"""The Metrics object in-process (each test its own registry), and the JSON log formatter."""

from __future__ import annotations

import datetime
import io
import logging

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from foretell import logs
from foretell.core.prediction import Prediction, finish, start
from foretell.core.status import Status
from foretell.metrics import NO_METRICS, Metrics, Recorder
from foretell.metrics.instances import InstanceProbe

T0 = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


def _ended(status: Status, *, waited: float, took: float, model: str = "acme/echo") -> Prediction:
    created = Prediction("p1", "ann", model, "v1", {}, T0)
    began = start(created, T0 + datetime.timedelta(seconds=waited))
    return finish(
        began, status, T0 + datetime.timedelta(seconds=waited + took),
        metrics={"predict_time": took},
    )  # fmt: skip


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_predictions_are_counted_by_model_and_status_with_their_times() -> None:
    metrics = Metrics()
    metrics.created("acme/echo")
    metrics.created("acme/echo")
    metrics.ended(_ended(Status.SUCCEEDED, waited=0.2, took=1.5))
    metrics.ended(_ended(Status.FAILED, waited=0.01, took=0.02))
    assert value(metrics, "foretell_predictions_queued_total", model="acme/echo") == 2
    total = "foretell_predictions_total"
    assert value(metrics, total, model="acme/echo", status="succeeded") == 1
    assert value(metrics, total, model="acme/echo", status="failed") == 1
    assert value(metrics, "foretell_predict_seconds_count", model="acme/echo") == 2
    assert value(metrics, "foretell_predict_seconds_sum", model="acme/echo") == pytest.approx(1.52)
    assert value(metrics, "foretell_predict_seconds_bucket", model="acme/echo", le="1.0") == 1
    assert value(metrics, "foretell_queue_seconds_sum", model="acme/echo") == pytest.approx(0.21)


def test_a_prediction_that_never_started_counts_but_has_no_times() -> None:
    """Canceled while queued: counted by status; no queue or predict time to observe."""
    metrics = Metrics()
    queued = Prediction("p2", "ann", "acme/echo", "v1", {}, T0)
    metrics.ended(finish(queued, Status.CANCELED, T0 + datetime.timedelta(seconds=3)))
    total = "foretell_predictions_total"
    assert value(metrics, total, model="acme/echo", status="canceled") == 1
    assert value(metrics, "foretell_queue_seconds_count", model="acme/echo") is None
    assert value(metrics, "foretell_predict_seconds_count", model="acme/echo") is None


def test_webhooks_sse_instances_and_cold_boots() -> None:
    metrics = Metrics()
    for outcome in ("delivered", "delivered", "retry", "failed"):
        metrics.webhook(outcome)
    metrics.sse(1)
    metrics.sse(1)
    metrics.sse(-1)
    metrics.instances("acme/echo", 2)
    metrics.instances("acme/echo", 0)
    metrics.cold_boot("acme/echo", 3.2)
    webhooks = "foretell_webhook_deliveries_total"
    assert value(metrics, webhooks, outcome="delivered") == 2
    assert value(metrics, webhooks, outcome="retry") == 1
    assert value(metrics, webhooks, outcome="failed") == 1
    assert value(metrics, "foretell_sse_connections") == 1
    assert value(metrics, "foretell_instances", model="acme/echo") == 0
    assert value(metrics, "foretell_cold_boot_seconds_count", model="acme/echo") == 1
    assert value(metrics, "foretell_cold_boot_seconds_bucket", model="acme/echo", le="5.0") == 1


def test_queue_gauges_hold_exactly_the_models_of_the_last_look() -> None:
    metrics = Metrics()
    metrics.set_queues({"acme/a": 3, "acme/b": 0}, {"acme/a": 12.5})
    assert value(metrics, "foretell_queue_depth", model="acme/a") == 3
    assert value(metrics, "foretell_queue_oldest_seconds", model="acme/a") == 12.5
    assert value(metrics, "foretell_queue_oldest_seconds", model="acme/b") is None
    metrics.set_queues({"acme/b": 1}, {})
    assert value(metrics, "foretell_queue_depth", model="acme/a") is None
    assert value(metrics, "foretell_queue_depth", model="acme/b") == 1


def test_each_metrics_has_its_own_registry_and_the_exposition_parses() -> None:
    one, two = Metrics(), Metrics()
    one.created("acme/echo")
    assert value(two, "foretell_predictions_queued_total", model="acme/echo") is None
    families = {f.name: f for f in text_string_to_metric_families(one.exposition().decode())}
    assert families["foretell_predictions_queued"].type == "counter"
    assert families["foretell_predict_seconds"].type == "histogram"
    assert "process_resident_memory_bytes" in families


def test_the_default_recorder_records_nothing_and_is_a_recorder() -> None:
    recorder: Recorder = NO_METRICS
    recorder.created("acme/echo")
    recorder.ended(_ended(Status.SUCCEEDED, waited=0, took=0))
    recorder.webhook("delivered")
    recorder.sse(1)
    recorder.cold_boot("acme/echo", 1.0)
    recorder.instances("acme/echo", 1)


def _formatted(record: logging.LogRecord) -> dict[str, object]:
    parsed: dict[str, object] = orjson.loads(logs.JsonFormatter().format(record))
    return parsed


def test_a_json_log_line_has_time_level_logger_message_and_the_extra_fields() -> None:
    record = logging.makeLogRecord(
        {
            "name": "foretell.consumer", "levelno": logging.WARNING, "levelname": "WARNING",
            "msg": "prediction %s was slow", "args": ("p1",), "created": T0.timestamp(),
            "prediction_id": "p1", "model": "acme/echo",
        }
    )  # fmt: skip
    assert _formatted(record) == {
        "time": "2026-12-01T12:00:00.000Z",
        "level": "warning",
        "logger": "foretell.consumer",
        "message": "prediction p1 was slow",
        "prediction_id": "p1",
        "model": "acme/echo",
    }


def test_a_json_log_line_carries_its_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("foretell.x").makeRecord(
            "foretell.x", logging.ERROR, __file__, 1, "it failed", (), __import__("sys").exc_info()
        )
    line = _formatted(record)
    assert line["message"] == "it failed"
    assert isinstance(line["exception"], str) and "ValueError: boom" in line["exception"]


def test_say_prints_text_or_logs_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    logs.say("hello")
    assert capsys.readouterr().out == "hello\n"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    monkeypatch.setattr(logs, "_format", "json")
    logs.PROGRESS.addHandler(handler)
    try:
        logs.say("p1 acme/echo succeeded\n", prediction_id="p1", model="acme/echo")
    finally:
        logs.PROGRESS.removeHandler(handler)
    line = orjson.loads(stream.getvalue())
    assert line["message"] == "p1 acme/echo succeeded"
    assert (line["prediction_id"], line["model"]) == ("p1", "acme/echo")
    assert capsys.readouterr().out == ""


class _Instances:
    def __init__(self, count: int) -> None:
        self.count = count


class _Runner:
    """What InstanceProbe reads of a runner: instance counts by model."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def instances(self, name: str) -> _Instances:
        return _Instances(self.counts[name])


def test_instance_counts_are_read_at_each_scrape() -> None:
    """The probe sets each known model's instance count; it observes no cold boot (the
    runner reports each one as it happens)."""
    metrics, runner = Metrics(), _Runner()
    metrics.add_probe(InstanceProbe(runner, ["acme/a", "acme/unknown"], metrics))
    runner.counts["acme/a"] = 0
    metrics.exposition()
    assert value(metrics, "foretell_instances", model="acme/a") == 0
    assert value(metrics, "foretell_instances", model="acme/unknown") is None
    runner.counts["acme/a"] = 2
    metrics.exposition()
    assert value(metrics, "foretell_instances", model="acme/a") == 2
    assert value(metrics, "foretell_cold_boot_seconds_count", model="acme/a") is None


def test_a_failing_probe_does_not_stop_the_scrape() -> None:
    metrics = Metrics()

    def broken() -> None:
        raise RuntimeError("boom")

    metrics.add_probe(broken)
    metrics.created("acme/a")
    assert b"foretell_predictions_queued_total" in metrics.exposition()
