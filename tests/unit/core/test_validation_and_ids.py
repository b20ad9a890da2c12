import uuid
from datetime import UTC, datetime

import pytest

from mnemo.core.ids import new_id, parse_id
from mnemo.core.validation import (
    require_content,
    require_limit,
    require_metadata,
    require_scope_id,
    require_timestamp,
    require_unit,
)
from mnemo.errors import InvalidInput


def test_new_ids_are_version_7_and_time_ordered() -> None:
    ids = [new_id() for _ in range(200)]
    assert all(i.version == 7 for i in ids)
    stamps = [i.int >> 80 for i in ids]
    assert stamps == sorted(stamps)


def test_parse_id() -> None:
    value = uuid.uuid4()
    assert parse_id(str(value)) == value
    assert parse_id(value) == value
    with pytest.raises(InvalidInput, match="UUID"):
        parse_id("1; DROP TABLE memories")
    with pytest.raises(InvalidInput):
        parse_id(42)


@pytest.mark.parametrize("bad", [None, "", "   ", 42, "x" * 256, "a\x00b"])
def test_scope_ids(bad: object) -> None:
    with pytest.raises(InvalidInput, match="user_id"):
        require_scope_id(bad, "user_id")


def test_optional_scope_id() -> None:
    assert require_scope_id(None, "agent_id", required=False) is None
    assert require_scope_id("a", "agent_id", required=False) == "a"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (None, "must be a string"),
        ("", "must not be empty"),
        (" \n", "must not be empty"),
        ("x" * 11, "limit is 10"),
        ("a\x00", "NUL"),
    ],
)
def test_content(bad: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        require_content(bad, max_chars=10)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("x", "must be an object"),
        ({"a": {1, 2}}, "JSON"),
        ({"a": float("nan")}, "JSON"),
        ({"a": "x" * 200}, "larger than"),
        ({"a": "\x00"}, "NUL"),
    ],
)
def test_metadata(bad: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        require_metadata(bad, max_bytes=100)


def test_units_limits_timestamps() -> None:
    assert require_unit(0.5, "confidence") == 0.5
    for bad in (-0.1, 1.1, float("nan"), True, "1"):
        with pytest.raises(InvalidInput):
            require_unit(bad, "confidence")
    for bad in (0, 101, True, 1.5):
        with pytest.raises(InvalidInput):
            require_limit(bad, maximum=100)
    assert require_timestamp("2024-05-01T10:00:00", "t") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="ISO 8601"):
        require_timestamp("yesterday", "t")
