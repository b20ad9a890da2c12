"""Dates and times as conversation datasets write them, read as aware UTC datetimes.

LoCoMo stamps sessions ``"1:56 pm on 8 May, 2023"``; other datasets stamp each turn,
often in ISO 8601. :func:`parse_timestamp` reads those and the other common written
forms; a value without a time zone is taken to be UTC.

Slashed numeric dates (``5/8/2023``) are month-first in some places and day-first in
others. One with a part over 12 (``13/5/2023``, ``5/13/2023``) decides its own reading;
one that reads either way needs the order given (``order="mdy"`` or ``"dmy"``), and is
refused without it: it is never guessed. :func:`slashed_reading` tells a reader which
case a value is, so that a whole file can be decided at once.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Literal

__all__ = ["ACCEPTED_FORMS", "DateOrder", "parse_timestamp", "slashed_reading"]

#: How a slashed numeric date is read: month first (``"mdy"``) or day first (``"dmy"``).
DateOrder = Literal["mdy", "dmy"]

#: What :func:`parse_timestamp` reads, for error messages.
ACCEPTED_FORMS = (
    "ISO 8601 ('2023-05-08T13:56:00', '2023-05-08 13:56', with or without a zone), "
    "LoCoMo's '1:56 pm on 8 May, 2023', '8 May 2023 13:56', 'May 8, 2023, 1:56 PM', "
    "'Monday, 8 May 2023', '2023/05/08', '08.05.2023', Unix seconds (a number or digits), "
    "or slashed '5/13/2023', '13/5/23 13:56' (month or day first, as a part over 12 or the "
    "date order given decides)"
)
_CLOCK = re.compile(
    r"(?<![\d.:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*(?:([ap])\.?\s?m\b\.?)?", re.IGNORECASE
)
_FILLER = re.compile(
    r"\b(?:on|at|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)\b\.?",
    re.IGNORECASE,
)
_UNIX_SECONDS = re.compile(r"\d{9,11}(?:\.\d+)?")
_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b", re.IGNORECASE)
_DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%Y/%m/%d", "%d.%m.%Y")
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})")
_ORDER_NAMES = {"mdy": "month first", "dmy": "day first"}


def parse_timestamp(value: object, *, order: DateOrder | None = None) -> datetime:
    """``value`` as an aware UTC datetime; raises ``ValueError`` naming the accepted forms.

    ``order`` reads slashed numeric dates that read either way (``5/8/2023``); without
    it they are refused. A date it cannot fit (``13/5/2023`` with ``"mdy"``) is refused.
    """
    if order is not None and order not in _ORDER_NAMES:
        raise ValueError(f"date order must be 'mdy' or 'dmy', got {order!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a Unix time in seconds") from exc
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a date/time string, got {value!r:.60}")
    text = value.strip()
    if _UNIX_SECONDS.fullmatch(text):
        return parse_timestamp(float(text))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _written(text, order)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def slashed_reading(value: object) -> Literal["mdy", "dmy", "either"] | None:
    """How a slashed numeric date can be read: ``"mdy"`` or ``"dmy"`` when a part over 12
    decides it, ``"either"`` when both orders give a date (two different ones); ``None``
    when the order does not matter (``5/5/2023``, another form) or no order fits
    (``13/13/2023``, not a date)."""
    if not isinstance(value, str):
        return None
    try:
        _, words = _clock_and_words(value.strip())
    except ValueError:
        return None
    match = _SLASHED.fullmatch(words)
    if not match:
        return None
    if match[1] == match[2]:
        return None
    fits = [order for order in ("mdy", "dmy") if _fits(match, order)]
    if len(fits) == 2:
        return "either"
    return "mdy" if fits == ["mdy"] else "dmy" if fits == ["dmy"] else None


def _written(text: str, order: DateOrder | None) -> datetime:
    """A date written out in words or with slashes or dots, with an optional clock time."""
    clock, words = _clock_and_words(text)
    slashed = _SLASHED.fullmatch(words)
    if slashed:
        return datetime.combine(_slashed_date(slashed, order), clock)
    for form in _DATE_FORMATS:
        try:
            return datetime.combine(datetime.strptime(words, form).date(), clock)
        except ValueError:
            continue
    raise ValueError(f"unrecognised date/time {text!r:.60}; accepted: {ACCEPTED_FORMS}")


def _clock_and_words(text: str) -> tuple[time, str]:
    """The clock time in ``text`` (midnight if none) and the rest, fillers dropped."""
    clock, rest = time(), text
    match = _CLOCK.search(text)
    if match:
        clock = _clock_time(match)
        rest = text[: match.start()] + " " + text[match.end() :]
    return clock, " ".join(_ORDINAL.sub(r"\1", _FILLER.sub(" ", rest)).replace(",", " ").split())


def _slashed_date(match: re.Match[str], order: DateOrder | None) -> date:
    """``5/13/2023`` as a date: a part over 12 decides the order, else ``order`` must."""
    fits = [reading for reading in ("mdy", "dmy") if _fits(match, reading)]
    written = match[0]
    if not fits:
        raise ValueError(f"{written!r} is not a date, month or day first")
    if order is None and len(fits) == 2 and match[1] != match[2]:
        raise ValueError(
            f"{written!r} reads month first or day first: the date order must be given "
            "('mdy' or 'dmy'), it is not guessed"
        )
    if order is not None and order not in fits:
        raise ValueError(f"{written!r} is not a date read {_ORDER_NAMES[order]} ({order})")
    return _as_date(match, order if order is not None else fits[0])


def _fits(match: re.Match[str], order: str) -> bool:
    try:
        _as_date(match, order)
    except ValueError:
        return False
    return True


def _as_date(match: re.Match[str], order: str) -> date:
    first, second, year = int(match[1]), int(match[2]), match[3]
    month, day = (first, second) if order == "mdy" else (second, first)
    full_year = datetime.strptime(year, "%y").year if len(year) == 2 else int(year)
    return date(full_year, month, day)


def _clock_time(match: re.Match[str]) -> time:
    hour, minute = int(match[1]), int(match[2])
    second = int(match[3] or 0)
    half = (match[4] or "").lower()
    if half and not 1 <= hour <= 12:
        raise ValueError(f"{match[0].strip()!r} is not a 12-hour clock time")
    if half:
        hour = hour % 12 + (12 if half == "p" else 0)
    return time(hour, minute, second)
