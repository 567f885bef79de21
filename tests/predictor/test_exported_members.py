"""The public surfaces: foretell.predictor and the `cog` alias."""

from __future__ import annotations

import subprocess
import sys

import cog
import foretell.predictor

COG_NAMES = {
    "AsyncConcatenateIterator",
    "BaseModel",
    "BasePredictor",
    "BaseRunner",
    "CancelationException",
    "ConcatenateIterator",
    "File",
    "Input",
    "Path",
    "Secret",
    "URLFile",
    "URLPath",
    "concurrent",
    "current_scope",
    "streaming",
}


def test_all_is_sorted_and_complete() -> None:
    """Every name in __all__ exists, the list is sorted, and Cog's names are all there."""
    for module in (foretell.predictor, cog):
        assert module.__all__ == sorted(module.__all__)
        for name in module.__all__:
            assert hasattr(module, name)
        assert COG_NAMES <= set(module.__all__)


def test_cog_alias_is_the_same_objects() -> None:
    """`from cog import X` gives foretell's own classes, not copies."""
    assert cog.BasePredictor is foretell.predictor.BasePredictor
    assert cog.Path is foretell.predictor.Path
    assert issubclass(cog.BasePredictor, cog.BaseRunner)
    assert issubclass(cog.CancelationException, BaseException)
    assert not issubclass(cog.CancelationException, Exception)


def test_deprecated_names_still_import_with_a_warning() -> None:
    """emit_metric and ExperimentalFeatureWarning import, printing a deprecation note."""
    code = "from cog import emit_metric, ExperimentalFeatureWarning; emit_metric('a', 1)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0
    assert "emit_metric is deprecated" in result.stderr


def test_base_model_subclasses_are_dataclasses() -> None:
    """cog.BaseModel subclasses get a generated __init__."""

    class Out(cog.BaseModel):
        text: str

    assert Out(text="a").text == "a"
