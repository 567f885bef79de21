"""Shared test fixtures: paths to the fixture predictors."""

from __future__ import annotations

import pathlib

import pytest

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
PREDICTORS = FIXTURES / "predictors"


@pytest.fixture
def predictors_dir() -> pathlib.Path:
    """The directory holding one fixture predictor per behaviour."""
    return PREDICTORS
