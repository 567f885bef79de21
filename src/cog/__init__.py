"""`import cog` for models written for Cog: a thin alias of foretell.predictor."""

from __future__ import annotations

import importlib
from typing import Any

from foretell.predictor import (
    AsyncConcatenateIterator,
    BaseModel,
    BasePredictor,
    BaseRunner,
    CancelationException,
    ConcatenateIterator,
    FieldInfo,
    File,
    Input,
    Opaque,
    Path,
    Secret,
    URLFile,
    URLPath,
    __version__,
    concurrent,
    current_scope,
    streaming,
)


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
