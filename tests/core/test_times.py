"""Every API timestamp has one text form: RFC 3339 in UTC, six fraction digits, `Z`."""

from __future__ import annotations

import datetime

from foretell.core.times import timestamp, utcnow


def test_a_utc_time_has_six_digits_and_z() -> None:
    value = datetime.datetime(2026, 12, 3, 14, 22, 5, 120, tzinfo=datetime.UTC)
    assert timestamp(value) == "2026-12-03T14:22:05.000120Z"


def test_a_whole_second_keeps_its_fraction() -> None:
    value = datetime.datetime(2026, 12, 3, 14, 22, 5, tzinfo=datetime.UTC)
    assert timestamp(value) == "2026-12-03T14:22:05.000000Z"


def test_another_offset_is_given_in_utc() -> None:
    india = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    value = datetime.datetime(2026, 12, 3, 1, 0, 0, 5, tzinfo=india)
    assert timestamp(value) == "2026-12-02T19:30:00.000005Z"


def test_it_reads_back_as_the_same_time() -> None:
    now = utcnow()
    text = timestamp(now)
    assert text is not None
    assert datetime.datetime.fromisoformat(text) == now


def test_no_time_is_none() -> None:
    assert timestamp(None) is None
