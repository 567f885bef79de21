"""Errors the runner raises to its callers."""

from __future__ import annotations


class RunnerError(Exception):
    """Base of the runner's errors."""


class ModelLoadError(RunnerError):
    """The model could not be imported or described; the message says why."""


class UnknownModel(RunnerError, KeyError):
    """No model of that name is hosted by this runner."""
