"""Scaling policies: the server's options, each model's cog.yaml bounds over them, and the
built-in models' scale-to-zero default."""

from __future__ import annotations

from foretell.predictor.config import InstanceBounds
from foretell.runner.autoscale import BUILTIN_IDLE_S, ScalePolicy, ScalingOptions


def test_the_server_defaults_your_models_run_always_builtins_scale_to_zero() -> None:
    """Without flags: one instance of yours for good; a built-in one stops when idle."""
    options = ScalingOptions()
    assert options.policy("acme/echo", False) == ScalePolicy(1, 1, None)
    assert options.policy("foretell/hello", True) == ScalePolicy(0, 1, BUILTIN_IDLE_S)


def test_cog_yaml_bounds_win_over_the_flags_one_by_one() -> None:
    """Each bound cog.yaml sets wins for its model; the ones it leaves are the flags'."""
    options = ScalingOptions(min_instances=1, max_instances=2, idle_timeout_s=60)
    own = InstanceBounds(max_instances=4)
    assert options.policy("acme/echo", False, own) == ScalePolicy(1, 4, 60)
    own = InstanceBounds(min_instances=0, idle_timeout_s=5)
    assert options.policy("acme/echo", False, own) == ScalePolicy(0, 2, 5)


def test_an_idle_timeout_in_cog_yaml_alone_scales_the_model_to_zero() -> None:
    """As with --idle-timeout, an idle timeout without a minimum means a minimum of 0."""
    own = InstanceBounds(idle_timeout_s=1)
    assert ScalingOptions().policy("acme/echo", False, own) == ScalePolicy(0, 1, 1)
    # a minimum above the server's maximum raises the maximum with it
    own = InstanceBounds(min_instances=3)
    assert ScalingOptions(max_instances=1).policy("acme/echo", False, own) == ScalePolicy(3, 3)
