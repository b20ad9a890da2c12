"""Dates and times as datasets write them, read as aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from mnemo.evaluation.timestamps import DateOrder, parse_timestamp, slashed_reading

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
        ("5/8/2023", "'5/8/2023' reads month first or day first: the date order must be given"),
        ("13/13/2023 13:56", "'13/13/2023' is not a date, month or day first"),
        ("2/30/2023", "'2/30/2023' is not a date"),
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


@pytest.mark.parametrize(
    ("written", "order", "expected"),
    [
        ("5/13/2023", None, datetime(2023, 5, 13, tzinfo=UTC)),  # a part over 12 decides
        ("13/5/2023", None, datetime(2023, 5, 13, tzinfo=UTC)),
        ("13/05/23 13:56", None, datetime(2023, 5, 13, 13, 56, tzinfo=UTC)),
        ("5/5/2023", None, datetime(2023, 5, 5, tzinfo=UTC)),  # the same either way
        ("5/8/2023 13:56", "mdy", MAY_8),
        ("5/8/2023, 1:56 pm", "mdy", MAY_8),
        ("8/5/23, 1:56 PM", "dmy", MAY_8),
        ("Monday, 08/05/2023 at 13:56", "dmy", MAY_8),
        ("5/13/2023", "mdy", datetime(2023, 5, 13, tzinfo=UTC)),
        ("2023-05-08 13:56", "dmy", MAY_8),  # other forms do not depend on the order
        ("1/2/69", "mdy", datetime(1969, 1, 2, tzinfo=UTC)),  # two digits: 69-99 is 19xx
    ],
)
def test_slashed_dates_read_as_decided(
    written: str, order: DateOrder | None, expected: datetime
) -> None:
    assert parse_timestamp(written, order=order) == expected


@pytest.mark.parametrize(
    ("written", "order", "message"),
    [
        ("13/5/2023", "mdy", "'13/5/2023' is not a date read month first (mdy)"),
        ("5/13/2023 10:00", "dmy", "'5/13/2023' is not a date read day first (dmy)"),
        ("13/13/2023", "dmy", "'13/13/2023' is not a date, month or day first"),
        ("5/8/2023", "ymd", "date order must be 'mdy' or 'dmy', got 'ymd'"),
    ],
)
def test_a_slashed_date_the_order_cannot_fit_is_refused(
    written: str, order: DateOrder, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_timestamp(written, order=order)


@pytest.mark.parametrize(
    ("written", "reading"),
    [
        ("5/8/2023", "either"),
        ("5/8/2023, 1:56 pm", "either"),
        ("13/5/2023", "dmy"),
        ("5/13/23 13:56", "mdy"),
        ("5/5/2023", None),  # the order does not matter
        ("13/13/2023", None),  # no order fits: parsing says so
        ("2023/05/08", None),
        ("8 May 2023", None),
        (1683554160, None),
        ("13:00 pm on 5/8/2023", None),
    ],
)
def test_slashed_reading_tells_what_a_date_decides(written: object, reading: str | None) -> None:
    assert slashed_reading(written) == reading
