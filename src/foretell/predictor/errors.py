"""Errors a model author can see.

PredictorError
 ├── PredictorLoadError   the model can't be imported, or its class or signatures are invalid
 └── InvalidInput         one or more inputs failed validation (all of them, per field)
CancelationException      raised inside a sync predict() when the prediction is canceled
"""

from __future__ import annotations

from dataclasses import dataclass


class PredictorError(Exception):
    """Base of the errors raised by the predictor interface."""


class PredictorLoadError(PredictorError):
    """Raised when a model can't be loaded: bad reference, import error, invalid signature."""


@dataclass(frozen=True)
class FieldError:
    """One input's problem. `kind` uses JSON Schema vocabulary (`required`, `enum`, ...)."""

    field: str
    message: str
    kind: str = "invalid"

    def __str__(self) -> str:
        return f"input.{self.field}: {self.message}" if self.field else f"input: {self.message}"


class InvalidInput(PredictorError):
    """Raised when inputs fail validation; `errors` holds every problem, one per field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


class CancelationException(BaseException):
    """Raised inside a sync predictor when its prediction is canceled; re-raise it.

    A BaseException, like Cog's, so that `except Exception` in model code doesn't swallow it.
    """
