"""BaseRunner (Cog 0.23's spelling) and BasePredictor (the older one), and BaseModel."""

from __future__ import annotations

import dataclasses
import inspect
import sys
from typing import Any

if sys.version_info >= (3, 11):  # noqa: UP036 — model environments may be older than foretell
    from typing import dataclass_transform
else:  # the marker only matters to type checkers

    def dataclass_transform(**_: Any) -> Any:
        return lambda cls: cls


from foretell.predictor.scope import Scope, current_scope


class BaseRunner:
    """Subclass and define `run()` — or, in older models, `predict()` — and optionally
    `setup(self)` or `setup(self, weights)`, which runs once per process before any prediction.
    (No base `setup` is declared, so either signature type-checks.)"""

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Run the model once. A legacy subclass that defines only predict() is forwarded there."""
        if user_method_owner(type(self), "predict") is not None:
            return self.predict(*args, **kwargs)
        raise NotImplementedError(f"{type(self).__name__} defines neither run() nor predict()")

    def predict(self, *args: Any, **kwargs: Any) -> Any:
        """Deprecated spelling of run()."""
        return self.run(*args, **kwargs)

    @property
    def scope(self) -> Scope:
        """The current prediction's scope (metrics, context); a no-op one outside predictions."""
        return current_scope()

    def record_metric(self, key: str, value: Any, mode: str = "replace") -> None:
        """Record a custom metric on the current prediction (see Scope.record_metric)."""
        current_scope().record_metric(key, value, mode=mode)


class BasePredictor(BaseRunner):
    """Deprecated name of BaseRunner, still what most Cog models subclass."""


def user_method_owner(cls: type[Any], name: str) -> type[Any] | None:
    """The user class that defines `name`, stopping at the framework base classes."""
    for owner in inspect.getmro(cls):
        if owner in (BaseRunner, BasePredictor, object):
            return None
        if callable(owner.__dict__.get(name)):
            return owner
    return None


@dataclass_transform()
class BaseModel:
    """Base of structured outputs; subclasses become dataclasses automatically."""

    def __init_subclass__(cls, *, auto_dataclass: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__()
        if not issubclass(cls.__bases__[0], BaseModel):
            raise TypeError(f"the first base class of {cls.__name__} must inherit from BaseModel")
        if auto_dataclass:
            dataclasses.dataclass(**kwargs)(cls)
