from datetime import UTC, datetime

import pytest

from mnemo.core.query_dates import query_windows

NOW = datetime(2024, 3, 15, 12, tzinfo=UTC)  # a Friday


def spans(query: str) -> list[tuple[str, str, bool]]:
    return [
        (w.start.date().isoformat(), w.end.date().isoformat(), w.any_year)
        for w in query_windows(query, NOW)
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # a named day: from the day before to a week after it
        ("What did I cook on 13 October, 2023?", [("2023-10-12", "2023-10-21", False)]),
        ("What happened on October 6th, 2022?", [("2022-10-05", "2022-10-14", False)]),
        ("the meeting of 2023-05-07", [("2023-05-06", "2023-05-15", False)]),
        ("the meeting of 2023/5/7", [("2023-05-06", "2023-05-15", False)]),
        # slashed: month first (7 May) and day first (5 July) where both are dates
        ("What did Maria do on 5/7/2023?",
         [("2023-05-06", "2023-05-15", False), ("2023-07-04", "2023-07-13", False)]),
        ("on 5/5/2023", [("2023-05-04", "2023-05-13", False)]),  # both readings agree
        ("on 13/5/2023", [("2023-05-12", "2023-05-21", False)]),  # only day first is a date
        ("on 5/13/2023", [("2023-05-12", "2023-05-21", False)]),  # only month first
        ("the email of 12/25/23", [("2023-12-24", "2024-01-02", False)]),  # a 2-digit year
        ("the 4th of July party", [("2000-07-03", "2000-07-12", True)]),
        # a month, with a week of slack after it; without a year: that month of any year
        ("Which cake did she bake in May 2022?", [("2022-05-01", "2022-06-08", False)]),
        ("What did she paint in June?", [("2000-06-01", "2000-07-08", True)]),
        ("Where did we go in December?", [("2000-12-01", "2001-01-08", True)]),
        ("Which trips were in 2023?", [("2023-01-01", "2024-01-08", False)]),
        # relative to the moment of the search
        ("what did I do yesterday", [("2024-03-14", "2024-03-22", False)]),
        ("the film we saw last Friday", [("2024-03-08", "2024-03-16", False)]),
        ("three weeks ago", [("2024-02-18", "2024-03-06", False)]),
        ("2 days ago", [("2024-03-12", "2024-03-21", False)]),
        ("what did I say last week", [("2024-03-01", "2024-03-22", False)]),
        # a named date anchors the relative words, which then add nothing
        ("What did Jo finish last Friday, on 23 January 2022?",
         [("2022-01-22", "2022-01-31", False)]),
    ],
)  # fmt: skip
def test_dates_named_in_a_query_become_windows(
    query: str, expected: list[tuple[str, str, bool]]
) -> None:
    assert spans(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "May I ask what you like to paint?",  # "may" the verb
        "Did they march in the parade?",
        "What is her favourite book?",
        "on 31 June 2023",  # not a date
        "at 10:30 we met",
        "she has 2023 stamps",
        "she scored 5/7 on the test",  # no year: a fraction or a score
        "on 31/31/2023",  # neither reading is a date
        "path a/5/7/2023/b and 1/2/3/2024",  # inside a longer run of slashes
    ],
)
def test_no_date_no_window(query: str) -> None:
    assert query_windows(query, NOW) == []


def test_a_month_of_any_year_contains_its_days_in_every_year() -> None:
    (june,) = query_windows("in June", NOW)
    assert june.contains(datetime(1999, 6, 30, 23, tzinfo=UTC))
    assert june.contains(datetime(2031, 7, 3, tzinfo=UTC))  # inside the week of slack
    assert not june.contains(datetime(2031, 5, 31, tzinfo=UTC))
    assert not june.contains(datetime(2031, 8, 1, tzinfo=UTC))
    assert june.in_year(2023) == (
        datetime(2023, 6, 1, tzinfo=UTC),
        datetime(2023, 7, 8, tzinfo=UTC),
    )


def test_a_leap_day_of_any_year_survives_common_years() -> None:
    (window,) = query_windows("on 29 February", NOW)
    assert window.any_year
    assert window.in_year(2023)[0] == datetime(2023, 2, 28, tzinfo=UTC)
    assert window.contains(datetime(2023, 3, 1, tzinfo=UTC))
    assert window.contains(datetime(2024, 2, 29, 18, tzinfo=UTC))
    assert not window.contains(datetime(2023, 2, 26, tzinfo=UTC))
