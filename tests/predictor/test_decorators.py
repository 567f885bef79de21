"""@concurrent and @streaming: markers with Cog's checks."""

from __future__ import annotations

import pytest

from cog import concurrent, streaming


def test_concurrent_marks_an_async_method() -> None:
    """@concurrent(max=N) records N on the function for the runner to read."""

    @concurrent(max=3)
    async def predict() -> str:
        return "x"

    assert predict.__cog_concurrent_max__ == 3  # type: ignore[attr-defined]


def test_bare_concurrent_means_one() -> None:
    """@concurrent without arguments records 1, and works on a sync function."""

    @concurrent
    def predict() -> str:
        return "x"

    assert predict.__cog_concurrent_max__ == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("max_", "error", "message"),
    [
        ("2", TypeError, "must be an integer"),
        (True, TypeError, "must be an integer"),
        (0, ValueError, "at least 1"),
    ],
)
def test_concurrent_refuses_bad_limits(max_: object, error: type[Exception], message: str) -> None:
    """A non-integer limit is a TypeError and one below 1 a ValueError, as in Cog."""
    with pytest.raises(error, match=message):
        concurrent(max=max_)  # type: ignore[call-overload]


def test_concurrency_above_one_needs_async() -> None:
    """@concurrent(max > 1) on a sync function is refused."""
    with pytest.raises(TypeError, match="needs an async"):

        @concurrent(max=2)
        def predict() -> str:
            return "x"


def test_streaming_changes_nothing() -> None:
    """@streaming and @streaming() return the function itself."""

    def predict() -> str:
        return "x"

    assert streaming(predict) is predict
    assert streaming()(predict) is predict
