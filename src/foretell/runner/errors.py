"""Errors the runner raises to its callers."""

from __future__ import annotations


class RunnerError(Exception):
    """Base of the runner's errors."""


class ModelLoadError(RunnerError):
    """The model could not be imported or described; the message says why."""


class UnknownModel(RunnerError, KeyError):
    """No model of that name is hosted by this runner."""


class StepFailed(Exception):
    """A step of handling a prediction failed; the message is what the user is told."""


def say(exc: BaseException) -> str:
    """An exception as one line a user can read."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
