"""The public surface of foretell.predictor: exactly the names the contract lists."""

from __future__ import annotations

import foretell.predictor

#: docs/internal-contracts.md, `foretell.predictor` public surface.
PUBLIC = [
    "AsyncConcatenateIterator",
    "BaseModel",
    "BasePredictor",
    "BaseRunner",
    "CancelationException",
    "ConcatenateIterator",
    "FieldInfo",
    "File",
    "Input",
    "Opaque",
    "Path",
    "Secret",
    "URLFile",
    "URLPath",
    "__version__",
    "concurrent",
    "current_scope",
    "streaming",
]


def test_all_is_sorted_and_exactly_the_contract() -> None:
    """__all__ is sorted, lists the contract's names, and every one of them exists."""
    assert foretell.predictor.__all__ == sorted(foretell.predictor.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(foretell.predictor, name)


def test_exported_members_say_where_they_live() -> None:
    """Every exported class and function comes from a foretell.predictor module."""
    for name in PUBLIC:
        member = getattr(foretell.predictor, name)
        module = getattr(member, "__module__", "foretell.predictor")
        assert module.startswith("foretell.predictor"), (name, module)


def test_version_is_the_cog_version_mirrored() -> None:
    """__version__ names the Cog SDK release whose interface this mirrors."""
    assert foretell.predictor.__version__ == "0.23.1"


def test_deprecated_names_are_not_in_all() -> None:
    """`from cog import *` doesn't trigger the deprecation notices of the old names."""
    assert "emit_metric" not in foretell.predictor.__all__
    assert "ExperimentalFeatureWarning" not in foretell.predictor.__all__
