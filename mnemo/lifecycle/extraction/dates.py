"""Relative and partial dates in English ("yesterday", "last week", "on May 7") made absolute.

:func:`find_time_mention` finds the first time expression in a clause and resolves
it against the day the turn was written, so a memory can say "on 7 May 2023"
instead of "yesterday". Pure: no clock, no locale.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

__all__ = ["TimeMention", "find_time_mention"]

Direction = Literal["past", "future", "either"]


@dataclass(frozen=True, slots=True)
class TimeMention:
    """A time expression found in a text, resolved.

    ``day`` is the first day of the period named ("last month" → the 1st of it);
    ``phrase`` says the period in absolute words ("in April 2023");
    ``direction`` is what the words themselves imply about tense.
    """

    start: int
    end: int
    day: date
    phrase: str
    direction: Direction


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
_COUNTS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "a couple of": 2, "a few": 3, "several": 3,
}  # fmt: skip
_APPROXIMATE = {"a few", "several"}

_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_FULL_MONTH = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
)
_WEEKDAY_NAMES = {
    **{name: index for index, name in enumerate(_WEEKDAYS)},
    **{name[:3]: index for index, name in enumerate(_WEEKDAYS)},
    "tues": 1, "weds": 2, "thur": 3, "thurs": 3,
}  # fmt: skip
_WEEKDAY = "|".join(sorted(_WEEKDAY_NAMES, key=len, reverse=True))
_SEASON = "|".join(_SEASONS)
_COUNT = r"\d{1,3}|a couple of|a few|several|an?|one|two|three|four|five|six|seven|eight|nine|ten"
_UNIT = r"(?P<unit>day|week|month|year)s?"

Resolved = tuple[date, str, Direction] | None
Resolver = Callable[[re.Match[str], date, bool], Resolved]


def find_time_mention(text: str, today: date, *, future: bool = False) -> TimeMention | None:
    """The first time expression in ``text``, resolved against ``today``.

    ``future`` says how to read expressions that fit either way ("on Friday",
    "on May 7"): the next one when true, the latest one up to today otherwise.
    """
    for pattern, resolve in _RULES:
        for match in pattern.finditer(text):
            if text.startswith("'s", match.end()):
                continue  # "last week's game": a modifier, not a time of its own
            resolved = resolve(match, today, future)
            if resolved is not None:
                day, phrase, direction = resolved
                return TimeMention(match.start(), match.end(), day, phrase, direction)
    return None


# --- phrases ---------------------------------------------------------------------------


def _on(day: date) -> str:
    return f"on {_format(day)}"


def _format(day: date) -> str:
    return f"{day.day} {day:%B} {day.year}"


def _month_phrase(day: date) -> str:
    return f"in {day:%B} {day.year}"


# --- resolvers -------------------------------------------------------------------------


def _days(offset: int, direction: Direction) -> Resolver:
    def resolve(match: re.Match[str], today: date, future: bool) -> Resolved:
        day = today + timedelta(days=offset)
        return day, _on(day), direction

    return resolve


def _count(match: re.Match[str]) -> tuple[int, bool]:
    word = match["n"].lower()
    return (int(word) if word.isdigit() else _COUNTS[word]), word in _APPROXIMATE


def _span(sign: int) -> Resolver:
    """'N units ago' (sign -1) or 'in N units' (sign +1)."""

    def resolve(match: re.Match[str], today: date, future: bool) -> Resolved:
        n, rough = _count(match)
        unit = match["unit"].lower()
        direction: Direction = "past" if sign < 0 else "future"
        if unit in ("day", "week"):
            day = today + timedelta(days=sign * n * (7 if unit == "week" else 1))
            exact = unit == "day" and not rough
            return day, (_on(day) if exact else f"around {_format(day)}"), direction
        if unit == "month":
            day = _add_months(today.replace(day=1), sign * n)
            return day, _month_phrase(day), direction
        return date(today.year + sign * n, 1, 1), f"in {today.year + sign * n}", direction

    return resolve


def _week(offset_weeks: int, direction: Direction) -> Resolver:
    def resolve(match: re.Match[str], today: date, future: bool) -> Resolved:
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=offset_weeks)
        return monday, f"in the week of {_format(monday)}", direction

    return resolve


def _weekend(offset_weeks: int, direction: Direction) -> Resolver:
    def resolve(match: re.Match[str], today: date, future: bool) -> Resolved:
        monday = today - timedelta(days=today.weekday())
        # "this weekend" in the past tense, said on a weekday, is the one just gone.
        past_this = direction == "either" and not future and today.weekday() < 5
        saturday = monday + timedelta(days=5, weeks=offset_weeks - past_this)
        return saturday, f"on the weekend of {_format(saturday)}", direction

    return resolve


def _month(offset: int, direction: Direction) -> Resolver:
    def resolve(match: re.Match[str], today: date, future: bool) -> Resolved:
        day = _add_months(today.replace(day=1), offset)
        return day, _month_phrase(day), direction

    return resolve


def _year(offset: int, direction: Direction) -> Resolver:
    def resolve(match: re.Match[str], today: date, future: bool) -> Resolved:
        year = today.year + offset
        return date(year, 1, 1), f"in {year}", direction

    return resolve


def _season(which: Literal["last", "next", "this"]) -> Resolver:
    def resolve(match: re.Match[str], today: date, future: bool) -> Resolved:
        name = match["season"].lower()
        starts = [date(year, _SEASONS[name], 1) for year in range(today.year - 2, today.year + 2)]
        ended = [s for s in starts if _add_months(s, 3) <= today]
        upcoming = [s for s in starts if s > today]
        current = [s for s in starts if s <= today < _add_months(s, 3)]
        pick = {"last": ended[-1:], "next": upcoming[:1], "this": current or upcoming[:1]}[which]
        if not pick:
            return None
        direction: Direction = {"last": "past", "next": "future", "this": "either"}[which]  # type: ignore[assignment]
        return pick[0], f"in {name} {pick[0].year}", direction

    return resolve


def _weekday(direction: Direction) -> Resolver:
    def resolve(match: re.Match[str], today: date, future: bool) -> Resolved:
        name = match["wd"]
        if direction == "either" and name.lower() not in _WEEKDAYS and not name[0].isupper():
            return None  # "on sun", "on sat": words, not days
        wanted = _WEEKDAY_NAMES[name.lower()]
        ahead = direction == "future" or (direction == "either" and future)
        if ahead:
            day = today + timedelta(days=(wanted - today.weekday() - 1) % 7 + 1)
        else:
            day = today - timedelta(days=(today.weekday() - wanted - 1) % 7 + 1)
        return day, _on(day), direction

    return resolve


def _month_day(match: re.Match[str], today: date, future: bool) -> Resolved:
    if _looks_like_a_word(match["month"]):
        return None
    month = _MONTHS[match["month"].lower()]
    number = int(match["day"])
    if match["year"]:
        day = _safe_date(int(match["year"]), month, number)
    else:
        day = _safe_date(today.year, month, number)
        if day is not None and future and day < today:
            day = _safe_date(today.year + 1, month, number)
        elif day is not None and not future and day > today:
            day = _safe_date(today.year - 1, month, number)
    return None if day is None else (day, _on(day), "either")


def _month_only(match: re.Match[str], today: date, future: bool) -> Resolved:
    month = _MONTHS[match["month"].lower()]
    year = int(match["year"]) if match["year"] else today.year
    if not match["year"]:
        if future and month < today.month:
            year += 1
        elif not future and month > today.month:
            year -= 1
    day = date(year, month, 1)
    return day, _month_phrase(day), "either"


def _year_only(match: re.Match[str], today: date, future: bool) -> Resolved:
    year = int(match["year"])
    return date(year, 1, 1), f"in {year}", "either"


def _looks_like_a_word(month: str) -> bool:
    """'may' (the verb) or a lower-case abbreviation such as 'mar' is not a month."""
    short = month.lower() == "may" or len(month) <= 4
    return short and not month[0].isupper()


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_RULES: list[tuple[re.Pattern[str], Resolver]] = [
    (_rx(r"\bthe day before yesterday\b"), _days(-2, "past")),
    (_rx(r"\byesterday\b"), _days(-1, "past")),
    (_rx(r"\blast night\b"), _days(-1, "past")),
    (_rx(r"\b(?:the )?day after tomorrow\b"), _days(2, "future")),
    (_rx(r"\btomorrow\b"), _days(1, "future")),
    (
        _rx(r"\b(?:earlier )?today\b|\bthis (?:morning|afternoon|evening)\b|\btonight\b"),
        _days(0, "either"),
    ),
    (_rx(rf"\b(?P<n>{_COUNT}) {_UNIT} ago\b"), _span(-1)),
    (_rx(rf"\bin (?P<n>{_COUNT}) {_UNIT}\b"), _span(1)),
    (_rx(r"\b(?:last|this past|past) weekend\b"), _weekend(-1, "past")),
    (_rx(r"\bnext weekend\b"), _weekend(1, "future")),
    (_rx(r"\bthis weekend\b"), _weekend(0, "either")),
    (_rx(r"\b(?:last|this past|past) week\b"), _week(-1, "past")),
    (_rx(r"\bnext week\b"), _week(1, "future")),
    (_rx(r"\bthis week\b"), _week(0, "either")),
    (_rx(r"\blast month\b"), _month(-1, "past")),
    (_rx(r"\bnext month\b"), _month(1, "future")),
    (_rx(r"\bthis month\b"), _month(0, "either")),
    (_rx(r"\blast year\b"), _year(-1, "past")),
    (_rx(r"\bnext year\b"), _year(1, "future")),
    (_rx(r"\bthis year\b"), _year(0, "either")),
    (_rx(rf"\b(?:last|this past|past) (?P<season>{_SEASON})\b"), _season("last")),
    (_rx(rf"\bnext (?P<season>{_SEASON})\b"), _season("next")),
    (_rx(rf"\bthis (?P<season>{_SEASON})\b"), _season("this")),
    (_rx(rf"\b(?:last|this past) (?P<wd>{_WEEKDAY})\b\.?"), _weekday("past")),
    (_rx(rf"\bnext (?P<wd>{_WEEKDAY})\b"), _weekday("future")),
    (_rx(rf"\b(?:on|this) (?P<wd>{_WEEKDAY})\b"), _weekday("either")),
    (
        _rx(
            rf"\b(?:on )?(?P<month>{_MONTH})\.? (?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
            rf"(?:,? (?P<year>(?:19|20)\d\d)\b)?"
        ),
        _month_day,
    ),
    (
        _rx(
            rf"\b(?:on )?(?:the )?(?P<day>\d{{1,2}})(?:st|nd|rd|th)? (?:of )?(?P<month>{_MONTH})\b"
            rf"(?:,? (?P<year>(?:19|20)\d\d)\b)?"
        ),
        _month_day,
    ),
    (_rx(rf"\bin (?P<month>{_FULL_MONTH})(?: (?P<year>(?:19|20)\d\d))?\b"), _month_only),
    (_rx(r"\bin (?P<year>(?:19|20)\d\d)\b"), _year_only),
]
