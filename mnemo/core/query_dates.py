"""The dates a search query names, as time windows its memories can fall in.

"What did I cook on 13 October, 2023?", "in July 2023", "in June", "in 2022", "on
2023-05-07", "on 5/7/2023", and, measured from the moment of the search, "yesterday",
"last week", "three days ago", "last Friday". A memory whose ``created_at`` falls inside
a window is likely what the question is about (see :mod:`mnemo.core.context_boosts`).

A slashed date is read month first ("5/7/2023" is 7 May, as written in the US) and day
first ("5/7/2023" is 5 July, as written almost everywhere else): where both readings
are dates they give a window each, so the boost favours two days rather than guessing
the wrong one; a number over 12 settles it ("13/5/2023", "5/13/2023"). Year first
("2023/05/07") is unambiguous. Without a year ("5/7") it could be a fraction or a
score, so it gives no window.

Windows are generous on purpose: things are told after they happen ("last Friday I
...", a week later) and a month named without a year ("in June") means that month of
any year. Only English is read; a query naming no date gives no window, so the
search is unchanged. Parsing is a handful of regular expressions (tens of microseconds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

__all__ = ["DateWindow", "query_windows"]

#: Days after a named day, month or year still counted as inside it: events are
#: often told some days after they happen ("last weekend ...").
SLACK_DAYS = 7

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}  # fmt: skip
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        [("monday",), ("tuesday",), ("wednesday",), ("thursday",), ("friday",),
         ("saturday",), ("sunday",)]
    )
    for name in names
}  # fmt: skip
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3,
}  # fmt: skip

_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_COUNT = r"(?P<count>\d{1,3}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + ")"

#: ``a/b/year`` (4 or 2 digits), not inside a longer run of digits and slashes.
_SLASHED = r"(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>(?:19|20)?\d\d)(?![\d/])"

#: Absolute dates, most specific first; each match's span is then blanked out.
_ABSOLUTE = [
    ("day", re.compile(rf"\b{_YEAR}(?P<sep>[-/])(?P<m>[01]?\d)(?P=sep){_DAY}\b")),
    ("slashed", re.compile(_SLASHED)),
    ("day", re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b")),
    ("day", re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b")),
    ("month", re.compile(rf"\b{_MONTH},?\s+(?:of\s+)?{_YEAR}\b")),
    ("dayany", re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}\b")),
    ("dayany", re.compile(rf"\b{_MONTH}\s+{_DAY}\b(?![:.]\d)")),
    ("monthany", re.compile(rf"\b(?:in|during|since|until|by|of|early|late|mid)\s+{_MONTH}\b")),
    ("year", re.compile(rf"\b(?:in|during|of|since|for)\s+(?:the\s+year\s+)?{_YEAR}\b")),
]
_RELATIVE = [
    ("yesterday", re.compile(r"\byesterday\b")),
    ("today", re.compile(r"\b(?:today|tonight|this morning|this afternoon|this evening)\b")),
    ("lastnight", re.compile(r"\blast night\b")),
    ("ago", re.compile(rf"\b{_COUNT}\s+{_UNIT}\s+ago\b")),
    ("last", re.compile(r"\blast\s+(?P<unit>week|weekend|month|year)\b")),
    ("this", re.compile(r"\bthis\s+(?P<unit>week|weekend|month|year)\b")),
    ("weekday", re.compile(r"\blast\s+(?P<weekday>" + "|".join(_WEEKDAYS) + r")\b")),
]


@dataclass(frozen=True, slots=True)
class DateWindow:
    """A span of days ``[start, end)``; ``any_year`` windows repeat every year."""

    start: datetime
    end: datetime
    any_year: bool = False

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` (aware) falls inside the window."""
        if not self.any_year:
            return self.start <= moment < self.end
        return any(a <= moment < b for a, b in map(self.in_year, (moment.year - 1, moment.year)))

    def in_year(self, year: int) -> tuple[datetime, datetime]:
        """``(start, end)`` moved to begin in ``year``."""
        delta = year - self.start.year
        return _add_years(self.start, delta), _add_years(self.end, delta)


def query_windows(query: str, now: datetime) -> list[DateWindow]:
    """The windows of the dates ``query`` names; relative ones are measured from ``now``."""
    text = query.lower()
    windows: list[DateWindow] = []
    for kind, pattern in _ABSOLUTE:
        for match in pattern.finditer(text):
            windows += _slashed(match) if kind == "slashed" else _absolute(kind, match)
        text = pattern.sub(lambda m: " " * len(m[0]), text)
    if windows:  # a named date anchors the question: "last Friday, on 23 January"
        return windows
    today = now.astimezone(UTC).date()
    for kind, pattern in _RELATIVE:
        for match in pattern.finditer(text):
            windows.append(_relative(kind, match, today))
    return windows


def _absolute(kind: str, match: re.Match[str]) -> list[DateWindow]:
    groups = match.groupdict()
    if kind == "year":
        first = date(int(groups["year"]), 1, 1)
        return [_window(first, date(first.year + 1, 1, 1))]
    year = int(groups["year"]) if groups.get("year") else 2000  # a leap year, for 29 Feb
    month = int(groups["m"]) if groups.get("m") else _MONTHS[groups["month"]]
    try:
        if kind in ("day", "dayany"):
            return [_day_window(date(year, month, int(groups["day"])), kind == "dayany")]
        first = date(year, month, 1)
        return [_window(first, _next_month(first), any_year=kind == "monthany")]
    except ValueError:  # "31 June": not a date, no window
        return []


def _slashed(match: re.Match[str]) -> list[DateWindow]:
    """``a/b/year``: a window for each reading, month first and day first, that is a
    date (one when both name the same day or only one is valid)."""
    a, b, year = int(match["a"]), int(match["b"]), int(match["y"])
    year += 2000 if year < 100 else 0
    days = []
    for month, day in ((a, b), (b, a)):
        try:
            days.append(date(year, month, day))
        except ValueError:  # "13/5/2023" read month first: not a date
            continue
    return [_day_window(day, any_year=False) for day in dict.fromkeys(days)]


def _day_window(day: date, any_year: bool) -> DateWindow:
    """From the day before ``day`` to the day after it (plus the slack)."""
    return _window(day - timedelta(days=1), day + timedelta(days=1), any_year=any_year)


def _relative(kind: str, match: re.Match[str], today: date) -> DateWindow:
    if kind == "yesterday":
        return _window(today - timedelta(days=1), today)
    if kind == "today":
        return _window(today, today + timedelta(days=1))
    if kind == "lastnight":
        return _window(today - timedelta(days=1), today + timedelta(days=1))
    if kind == "weekday":
        back = (today.weekday() - _WEEKDAYS[match["weekday"]]) % 7 or 7
        day = today - timedelta(days=back)
        return _window(day, day + timedelta(days=1))
    unit = match["unit"]
    if kind == "ago":
        count = match["count"]
        n = int(count) if count.isdigit() else _NUMBERS[count]
        days = {"day": 1, "week": 7, "month": 30, "year": 365}[unit] * n
        centre = today - timedelta(days=days)
        spread = max(1, days // 4)
        return _window(centre - timedelta(days=spread), centre + timedelta(days=spread))
    span = {"week": 7, "weekend": 7, "month": 31, "year": 366}[unit]
    if kind == "this":
        return _window(today - timedelta(days=span), today + timedelta(days=1))
    return _window(today - timedelta(days=2 * span), today)


def _window(first: date, last: date, *, any_year: bool = False) -> DateWindow:
    """``[first, last)`` widened by the slack after it, as aware UTC datetimes."""
    start = datetime.combine(first, time(), UTC)
    end = datetime.combine(last + timedelta(days=SLACK_DAYS), time(), UTC)
    return DateWindow(start, end, any_year)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February in a common year
        return moment.replace(year=moment.year + years, day=28)
