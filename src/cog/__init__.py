"""`import cog` for models written for Cog: a thin alias of foretell.predictor."""

from __future__ import annotations

import importlib
from typing import Any

from foretell.predictor import *  # noqa: F403 — the alias is exactly foretell.predictor's surface
from foretell.predictor import __all__ as __all__


def __getattr__(name: str) -> Any:
    # Deprecated names (emit_metric, ExperimentalFeatureWarning) load on use, with a warning.
    compat = importlib.import_module("foretell.predictor._compat")
    return compat.deprecated(name, globals())
