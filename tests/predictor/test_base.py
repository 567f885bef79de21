"""BaseRunner, BasePredictor and BaseModel behave as Cog's do."""

from __future__ import annotations

import dataclasses
import warnings

import pytest

from cog import BaseModel, BasePredictor, BaseRunner, Path


def test_base_predictor_is_the_old_name_of_base_runner() -> None:
    """BasePredictor subclasses are BaseRunners."""
    assert issubclass(BasePredictor, BaseRunner)


def test_run_forwards_to_a_legacy_predict() -> None:
    """Calling run() on a class that only defines predict() calls predict()."""

    class Predictor(BasePredictor):
        def predict(self, x: int) -> int:
            return x * 2

    assert Predictor().run(x=4) == 8


def test_predict_forwards_to_run_with_a_deprecation_warning() -> None:
    """Calling predict() on a Runner calls run(), warning that predict() is deprecated."""

    class Runner(BaseRunner):
        def run(self, x: int) -> int:
            return x + 1

    with pytest.warns(DeprecationWarning, match="predict\\(\\) is deprecated"):
        assert Runner().predict(x=1) == 2


def test_run_without_an_implementation_raises() -> None:
    """A runner defining neither method raises NotImplementedError, not a recursion error."""
    with pytest.raises(NotImplementedError, match="neither run\\(\\) nor predict\\(\\)"):
        BaseRunner().run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(NotImplementedError):
            BasePredictor().predict()


def test_base_setup_does_nothing_and_accepts_weights() -> None:
    """The inherited setup() exists, so `super().setup()` and setup(weights) both work."""

    class Runner(BaseRunner):
        def setup(self) -> None:
            super().setup()  # type: ignore[misc]

    Runner().setup()
    assert BaseRunner().setup(weights="w") is None  # type: ignore[attr-defined]


def test_base_model_subclasses_are_dataclasses() -> None:
    """cog.BaseModel subclasses get a generated __init__, fields and equality."""

    class Out(BaseModel):
        text: str
        image: Path | None = None

    assert Out(text="a") == Out(text="a", image=None)
    assert dataclasses.is_dataclass(Out)


def test_base_model_options() -> None:
    """auto_dataclass=False leaves the class alone; dataclass options pass through."""

    class Manual(BaseModel, auto_dataclass=False):
        text: str

    class Frozen(BaseModel, frozen=True):
        n: int

    assert not dataclasses.is_dataclass(Manual)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Frozen(n=1).n = 2  # type: ignore[misc]


def test_base_model_inheritance_rules() -> None:
    """The first base must be a BaseModel, dataclass mixins are refused, and a manual child
    of an automatic model is refused, as in Cog."""
    with pytest.raises(TypeError, match="first base class"):

        class Wrong(int, BaseModel):
            pass

    @dataclasses.dataclass
    class Mixin:
        a: int = 0

    with pytest.raises(TypeError, match="can't mix in the dataclass Mixin"):

        class Mixed(BaseModel, Mixin):
            pass

    class Auto(BaseModel):
        a: int

    with pytest.raises(ValueError, match="auto_dataclass=False"):

        class Child(Auto, auto_dataclass=False):
            pass
