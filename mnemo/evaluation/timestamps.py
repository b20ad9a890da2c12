"""Dates and times as conversation datasets write them, read as aware UTC datetimes.

LoCoMo stamps sessions ``"1:56 pm on 8 May, 2023"``; other datasets stamp each turn,
often in ISO 8601. :func:`parse_timestamp` reads those and the other common written
forms; a value without a time zone is taken to be UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

__all__ = ["ACCEPTED_FORMS", "parse_timestamp"]

#: What :func:`parse_timestamp` reads, for error messages.
ACCEPTED_FORMS = (
    "ISO 8601 ('2023-05-08T13:56:00', '2023-05-08 13:56', with or without a zone), "
    "LoCoMo's '1:56 pm on 8 May, 2023', '8 May 2023 13:56', 'May 8, 2023, 1:56 PM', "
    "'Monday, 8 May 2023', '2023/05/08', '08.05.2023', or Unix seconds (a number or digits)"
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


def parse_timestamp(value: object) -> datetime:
    """``value`` as an aware UTC datetime; raises ``ValueError`` naming the accepted forms."""
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
        parsed = _written(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _written(text: str) -> datetime:
    """A date written out in words or with slashes or dots, with an optional clock time."""
    clock, rest = time(), text
    match = _CLOCK.search(text)
    if match:
        clock = _clock_time(match)
        rest = text[: match.start()] + " " + text[match.end() :]
    words = " ".join(_ORDINAL.sub(r"\1", _FILLER.sub(" ", rest)).replace(",", " ").split())
    for form in _DATE_FORMATS:
        try:
            return datetime.combine(datetime.strptime(words, form).date(), clock)
        except ValueError:
            continue
    raise ValueError(f"unrecognised date/time {text!r:.60}; accepted: {ACCEPTED_FORMS}")


def _clock_time(match: re.Match[str]) -> time:
    hour, minute = int(match[1]), int(match[2])
    second = int(match[3] or 0)
    half = (match[4] or "").lower()
    if half and not 1 <= hour <= 12:
        raise ValueError(f"{match[0].strip()!r} is not a 12-hour clock time")
    if half:
        hour = hour % 12 + (12 if half == "p" else 0)
    return time(hour, minute, second)
