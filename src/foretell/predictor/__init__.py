"""The Cog-compatible predictor interface: what model authors import (standard library only)."""

from __future__ import annotations

import importlib
from typing import Any

from foretell.predictor.base import BaseModel, BasePredictor, BaseRunner
from foretell.predictor.decorators import concurrent, streaming
from foretell.predictor.errors import CancelationException
from foretell.predictor.input import FieldInfo, Input
from foretell.predictor.scope import current_scope
from foretell.predictor.types import (
    AsyncConcatenateIterator,
    ConcatenateIterator,
    File,
    Opaque,
    Path,
    Secret,
    URLFile,
    URLPath,
)

__version__ = "0.23.1"  # the Cog SDK version whose interface this mirrors


def __getattr__(name: str) -> Any:
    # Loaded on use only; `from foretell.predictor import _compat` would recurse into here.
    compat = importlib.import_module("foretell.predictor._compat")
    return compat.deprecated(name, globals())


__all__ = [
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
