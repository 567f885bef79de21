"""BaseRunner (Cog 0.23's spelling) and BasePredictor (the older one), and BaseModel."""

from __future__ import annotations

import dataclasses
import inspect
import sys
import warnings
from typing import TYPE_CHECKING, Any

if sys.version_info >= (3, 11):  # noqa: UP036 — model environments may be older than foretell
    from typing import dataclass_transform
else:  # the marker only matters to type checkers

    def dataclass_transform(**_: Any) -> Any:
        return lambda cls: cls


from foretell.predictor.scope import Scope, current_scope


class BaseRunner:
    """Subclass and define `run()` — or, in older models, `predict()` — and optionally
    `setup(self)` or `setup(self, weights)`, which runs once per process before any prediction."""

    if not TYPE_CHECKING:
        # A do-nothing setup, so `super().setup()` works as in Cog. Type checkers don't see it,
        # so a subclass may declare either `setup(self)` or `setup(self, weights)`.
        def setup(self, weights=None):
            """Prepare the model once per process (load weights); the default does nothing."""

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Run the model once. A legacy subclass that defines only predict() is forwarded there."""
        cls = type(self)
        if user_method_owner(cls, "predict") is not None and user_method_owner(cls, "run") is None:
            return self.predict(*args, **kwargs)
        raise NotImplementedError(f"{cls.__name__} defines neither run() nor predict()")

    def predict(self, *args: Any, **kwargs: Any) -> Any:
        """Deprecated spelling of run()."""
        warnings.warn(
            f"{type(self).__name__}.predict() is deprecated; call run() instead",
            DeprecationWarning,
            stacklevel=2,
        )
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


_AUTO = "_foretell_auto_dataclass"


@dataclass_transform()
class BaseModel:
    """Base of structured outputs; subclasses become dataclasses automatically
    (`class Out(BaseModel, auto_dataclass=False)` to apply @dataclass yourself)."""

    def __init_subclass__(
        cls, *, auto_dataclass: bool = True, init: bool = True, **kwargs: Any
    ) -> None:
        super().__init_subclass__()
        primary = cls.__bases__[0]
        if not issubclass(primary, BaseModel):
            raise TypeError(f"the first base class of {cls.__name__} must inherit from BaseModel")
        for base in cls.__bases__[1:]:
            if dataclasses.is_dataclass(base):
                raise TypeError(f"{cls.__name__} can't mix in the dataclass {base.__name__}")
        if not auto_dataclass:
            if primary is not BaseModel and getattr(primary, _AUTO, False):
                raise ValueError(
                    f"{cls.__name__} sets auto_dataclass=False but its base {primary.__name__} "
                    "is an automatic dataclass: their fields would not combine"
                )
            setattr(cls, _AUTO, False)
            return
        dataclasses.dataclass(init=init, **kwargs)(cls)
        setattr(cls, _AUTO, True)
