"""Metadata filters: parsed and checked here, compiled to SQL by the store.

The language (a superset of what mem0 users write)::

    {"topic": "coffee"}                         equality (also lists and objects)
    {"year": {"$gte": 2020, "$lt": 2024}}       $eq $ne $gt $gte $lt $lte
    {"tag": {"$in": ["a", "b"]}}                $in $nin (a list of values)
    {"owner": {"$exists": True}}                $exists
    {"title": {"$contains": "roast"}}           substring, case-insensitive
    {"$or": [{...}, {...}]}, {"$and": [...]}, {"$not": {...}}

Keys name metadata fields; a dotted key (``"a.b"``) reaches into nested objects.
Several keys in one object must all hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mnemo.errors import InvalidFilter

COMPARISONS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte"})
MEMBERSHIP = frozenset({"$in", "$nin"})
OPERATORS = COMPARISONS | MEMBERSHIP | {"$exists", "$contains"}
MAX_DEPTH = 8
MAX_CONDITIONS = 64


@dataclass(frozen=True, slots=True)
class Condition:
    path: tuple[str, ...]
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Negation:
    part: Filter


Filter = Condition | AllOf | AnyOf | Negation


def parse_filters(raw: object) -> Filter | None:
    """The filter tree for ``raw``, ``None`` for no filter, or ``InvalidFilter``."""
    if raw is None or raw == {}:
        return None
    counter = [0]
    return _parse_object(raw, depth=0, counter=counter)


def _parse_object(raw: object, *, depth: int, counter: list[int]) -> Filter:
    if not isinstance(raw, dict) or not raw:
        raise InvalidFilter(f"a filter must be a non-empty object, got {raw!r:.80}")
    if depth > MAX_DEPTH:
        raise InvalidFilter(f"filters nest deeper than {MAX_DEPTH} levels")
    parts = [_parse_entry(key, value, depth=depth, counter=counter) for key, value in raw.items()]
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _parse_entry(key: object, value: object, *, depth: int, counter: list[int]) -> Filter:
    if not isinstance(key, str) or not key:
        raise InvalidFilter(f"filter keys must be non-empty strings, got {key!r:.80}")
    if key in ("$and", "$or"):
        if not isinstance(value, list) or not value:
            raise InvalidFilter(f"{key} takes a non-empty list of filters")
        parts = tuple(_parse_object(v, depth=depth + 1, counter=counter) for v in value)
        return AllOf(parts) if key == "$and" else AnyOf(parts)
    if key == "$not":
        return Negation(_parse_object(value, depth=depth + 1, counter=counter))
    if key.startswith("$"):
        raise InvalidFilter(f"unknown filter operator {key!r} at the top of a filter")
    return _parse_field(_path(key), value, counter)


def _parse_field(path: tuple[str, ...], value: object, counter: list[int]) -> Filter:
    if isinstance(value, dict) and value and all(str(k).startswith("$") for k in value):
        conditions = [_condition(path, op, operand, counter) for op, operand in value.items()]
        return conditions[0] if len(conditions) == 1 else AllOf(tuple(conditions))
    return _condition(path, "$eq", value, counter)


def _condition(path: tuple[str, ...], op: str, operand: object, counter: list[int]) -> Condition:
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise InvalidFilter(f"a filter may hold at most {MAX_CONDITIONS} conditions")
    name = ".".join(path)
    if op not in OPERATORS:
        raise InvalidFilter(f"unknown operator {op!r} on {name!r}; known: {sorted(OPERATORS)}")
    _check_operand(name, op, operand)
    return Condition(path, op, operand)


def _check_operand(name: str, op: str, operand: object) -> None:
    if op in MEMBERSHIP and not (isinstance(operand, list) and operand):
        raise InvalidFilter(f"{op} on {name!r} takes a non-empty list")
    if op in ("$gt", "$gte", "$lt", "$lte") and not _is_ordered(operand):
        raise InvalidFilter(f"{op} on {name!r} takes a number or a string")
    if op == "$exists" and not isinstance(operand, bool):
        raise InvalidFilter(f"$exists on {name!r} takes true or false")
    if op == "$contains" and not (isinstance(operand, str) and operand):
        raise InvalidFilter(f"$contains on {name!r} takes a non-empty string")


def _is_ordered(value: object) -> bool:
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


def _path(key: str) -> tuple[str, ...]:
    path = tuple(key.split("."))
    if any(not part for part in path):
        raise InvalidFilter(f"malformed filter key {key!r}")
    return path
