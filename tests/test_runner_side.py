"""Each hosted model's instance policy, as the runner side chooses it."""

from __future__ import annotations

import pathlib

from foretell.runner.autoscale import BUILTIN_IDLE_S, ScalePolicy, ScalingOptions
from foretell.runner_side import with_default


def _unpacked(home: pathlib.Path, version: str, cog_yaml: str) -> None:
    code = home / version / "model"
    code.mkdir(parents=True)
    (code / "cog.yaml").write_text(cog_yaml)
    (code / "predict.py").write_text("")


def test_a_pushed_versions_cog_yaml_bounds_apply_to_it_and_its_trainer(
    tmp_path: pathlib.Path,
) -> None:
    """A pushed version is hosted after the server started; its cog.yaml's `foretell:`
    bounds still win over the server-wide options, for its trainer too."""
    bounds = 'predict: "predict.py:P"\nforetell:\n  min_instances: 1\n  max_instances: 3\n'
    _unpacked(tmp_path, "abc", bounds)
    policy = with_default({}, ScalingOptions(), tmp_path)
    assert policy("me/m:abc") == ScalePolicy(1, 3, BUILTIN_IDLE_S)
    assert policy("me/m:abc#train") == ScalePolicy(1, 3, BUILTIN_IDLE_S)


def test_a_version_without_bounds_scales_like_the_built_ins(tmp_path: pathlib.Path) -> None:
    """No `foretell:` mapping, or not unpacked yet: zero instances when idle; a command-line
    model keeps the policy the server gave it."""
    _unpacked(tmp_path, "plain", 'predict: "predict.py:P"\n')
    given = ScalePolicy(2, 2, None)
    policy = with_default({"me/cli": given}, ScalingOptions(max_instances=2), tmp_path)
    assert policy("me/m:plain") == ScalePolicy(0, 2, BUILTIN_IDLE_S)
    assert policy("me/m:not-yet") == ScalePolicy(0, 2, BUILTIN_IDLE_S)
    assert policy("me/cli") is given
