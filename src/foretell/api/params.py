"""Bounded integers from headers and query strings: ASCII digits only, a length cap."""

from __future__ import annotations

from foretell.errors import InvalidField, InvalidRequest

#: more digits than any count or sequence number we serve (and int() past 4300 raises)
MAX_DIGITS = 18


def parse_count(text: str, name: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """`text` as a non-negative integer within bounds; 422 naming `name` otherwise.

    Only ASCII digits count: str.isdigit() also accepts `²` and other scripts' digits,
    which int() then refuses or reads as a different number.
    """
    text = text.strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > MAX_DIGITS:
        raise InvalidRequest(
            [InvalidField("format", name, f"must be a whole number of at most {MAX_DIGITS} digits")]
        )
    value = int(text)
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise InvalidRequest([InvalidField("range", name, f"must be {bounds} (got {value})")])
    return value


def optional_count(
    text: str | None, name: str, *, default: int, minimum: int = 0, maximum: int | None = None
) -> int:
    """parse_count for an optional parameter: `default` when it is absent."""
    if text is None:
        return default
    return parse_count(text, name, minimum=minimum, maximum=maximum)


#: the most items one page of a listing holds (and its default), as Replicate's
PAGE_SIZE = 100


def page_limit(text: str | None) -> int:
    """A listing's `?limit=`: 1 to PAGE_SIZE, PAGE_SIZE when absent; 422 otherwise."""
    return optional_count(text, "limit", default=PAGE_SIZE, minimum=1, maximum=PAGE_SIZE)
