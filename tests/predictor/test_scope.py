"""current_scope(): context and custom metrics."""

from __future__ import annotations

import asyncio

import pytest

from cog import BaseRunner, current_scope
from foretell.predictor.scope import Scope, use_scope


def test_metrics_nest_by_dots_and_support_modes() -> None:
    """replace, incr and append work, dots nest, and None deletes."""
    seen: list[tuple[str, object, str]] = []
    scope = Scope({"k": "v"}, on_metric=lambda *args: seen.append(args))
    with use_scope(scope):
        current_scope().record_metric("timing.load", 1.5)
        current_scope().record_metric("tokens", 2, mode="incr")
        current_scope().record_metric("tokens", 3, mode="incr")
        current_scope().metrics["probs"] = [0.1]
        current_scope().record_metric("probs", 0.2, mode="append")
        current_scope().record_metric("gone", 1)
        del current_scope().metrics["gone"]
        assert current_scope().context == {"k": "v"}
    assert scope.metrics_snapshot() == {"timing": {"load": 1.5}, "tokens": 5, "probs": [0.1, 0.2]}
    assert ("tokens", 3, "incr") in seen


@pytest.mark.parametrize("key", ["predict_time", "cog.x", "_a", "a__b", "a.b.c.d.e", "1a"])
def test_invalid_or_reserved_keys_are_refused(key: str) -> None:
    """Keys Cog forbids raise ValueError."""
    with pytest.raises(ValueError, match="metric key"):
        Scope().record_metric(key, 1)


def test_outside_a_prediction_recording_is_a_no_op() -> None:
    """Without a prediction, current_scope() silently ignores metrics."""
    current_scope().record_metric("anything", 1)
    assert current_scope().metrics_snapshot() == {}


def test_a_metric_keeps_its_type_until_deleted() -> None:
    """Setting a metric to a value of another type is refused until it is deleted, as in Cog."""
    scope = Scope()
    scope.record_metric("steps", 3)
    with pytest.raises(TypeError, match="holds an int; delete it before setting a str"):
        scope.record_metric("steps", "three")
    del scope.metrics["steps"]
    scope.record_metric("steps", "three")
    assert scope.metrics_snapshot() == {"steps": "three"}


@pytest.mark.parametrize(
    ("key", "value", "mode", "message"),
    [
        ("a", "x", "incr", "incr needs an int or float"),
        ("a", object(), "replace", "unsupported metric value type object"),
        ("a", 1, "sum", "metric mode 'sum'"),
    ],
)
def test_bad_values_and_modes_raise_type_error(
    key: str, value: object, mode: str, message: str
) -> None:
    """Values Cog can't send and unknown modes raise TypeError."""
    with pytest.raises(TypeError, match=message):
        Scope().record_metric(key, value, mode=mode)


def test_increment_is_an_alias_of_incr_and_none_deletes() -> None:
    """`increment` adds like `incr`; recording None removes the key and tells the listener."""
    seen: list[tuple[str, object, str]] = []
    scope = Scope(on_metric=lambda *args: seen.append(args))
    scope.record_metric("n", 1, mode="increment")
    scope.record_metric("n", 2, mode="incr")
    scope.record_metric("n", None)
    assert scope.metrics_snapshot() == {}
    assert seen[-1] == ("n", None, "replace")


def test_outside_a_prediction_even_invalid_keys_are_ignored() -> None:
    """The no-op scope ignores everything, as Cog's does, including keys it would refuse."""
    current_scope().metrics["cog.reserved"] = 1
    del current_scope().metrics["nothing"]
    assert len(current_scope().metrics) == 0


def test_each_asyncio_task_sees_its_own_scope() -> None:
    """use_scope is per task, so concurrent async predictions don't mix metrics or context."""

    async def prediction(name: str) -> dict[str, object]:
        with use_scope(Scope({"id": name})):
            await asyncio.sleep(0)
            current_scope().record_metric("who", current_scope().context["id"])
            await asyncio.sleep(0)
            return current_scope().metrics_snapshot()

    async def both() -> list[dict[str, object]]:
        return list(await asyncio.gather(prediction("a"), prediction("b")))

    assert asyncio.run(both()) == [{"who": "a"}, {"who": "b"}]


def test_base_runner_records_on_the_current_scope() -> None:
    """self.record_metric and self.scope reach the running prediction's scope."""

    class Runner(BaseRunner):
        def run(self) -> None:
            self.record_metric("a.b", 1)
            self.scope.metrics["c"] = True

    scope = Scope()
    with use_scope(scope):
        Runner().run()
    assert scope.metrics_snapshot() == {"a": {"b": 1}, "c": True}
