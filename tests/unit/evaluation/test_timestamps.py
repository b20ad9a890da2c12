"""Dates and times as datasets write them, read as aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mnemo.evaluation.timestamps import parse_timestamp

MAY_8 = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


@pytest.mark.parametrize(
    "written",
    [
        "1:56 pm on 8 May, 2023",  # LoCoMo's session stamps
        "1:56 PM on 8 May 2023",
        "2023-05-08T13:56:00",
        "2023-05-08T13:56:00Z",
        "2023-05-08T15:56:00+02:00",
        "2023-05-08 13:56",
        "8 May 2023 13:56",
        "8th May 2023, 13:56:00",
        "May 8, 2023, 1:56 PM",
        "Monday, 8 May 2023 at 1:56 p.m.",
        "08.05.2023 13:56",
        "2023/05/08 13:56",
        1683554160,
        1683554160.0,
        "1683554160",
    ],
)
def test_common_forms_are_read(written: object) -> None:
    assert parse_timestamp(written) == MAY_8


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("12:30 am on 1 June, 2023", datetime(2023, 6, 1, 0, 30, tzinfo=UTC)),
        ("12:05 pm on 1 June, 2023", datetime(2023, 6, 1, 12, 5, tzinfo=UTC)),
        ("2023-06-01", datetime(2023, 6, 1, tzinfo=UTC)),
        ("Thu, 1 Jun 2023", datetime(2023, 6, 1, tzinfo=UTC)),
    ],
)
def test_midnight_noon_and_dates_without_a_time(written: str, expected: datetime) -> None:
    assert parse_timestamp(written) == expected


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("yesterday", "unrecognised date/time 'yesterday'; accepted: ISO 8601"),
        ("5/8/2023", "unrecognised date/time"),  # day or month first? not guessed
        ("32 May 2023", "unrecognised date/time"),
        ("13:00 pm on 8 May 2023", "not a 12-hour clock time"),
        ("", "expected a date/time string"),
        (None, "expected a date/time string"),
        (True, "expected a date/time string"),
        (1e20, "not a Unix time in seconds"),
    ],
)
def test_anything_else_is_refused_with_the_accepted_forms(written: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_timestamp(written)
