"""current_scope(): context and custom metrics."""

from __future__ import annotations

import pytest

from cog import current_scope
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
