import pytest

from mnemo.core.filters import AllOf, AnyOf, Condition, Negation, parse_filters
from mnemo.errors import InvalidFilter


def test_no_filter() -> None:
    assert parse_filters(None) is None
    assert parse_filters({}) is None


def test_plain_equality_and_operators() -> None:
    assert parse_filters({"topic": "coffee"}) == Condition(("topic",), "$eq", "coffee")
    assert parse_filters({"a.b": {"$gte": 2}}) == Condition(("a", "b"), "$gte", 2)
    parsed = parse_filters({"x": {"$gt": 1, "$lt": 5}, "y": True})
    assert parsed == AllOf(
        (
            AllOf((Condition(("x",), "$gt", 1), Condition(("x",), "$lt", 5))),
            Condition(("y",), "$eq", True),
        )
    )


def test_logical_operators() -> None:
    parsed = parse_filters({"$or": [{"a": 1}, {"$not": {"b": 2}}]})
    assert parsed == AnyOf((Condition(("a",), "$eq", 1), Negation(Condition(("b",), "$eq", 2))))


def test_an_object_value_without_operators_is_equality() -> None:
    assert parse_filters({"owner": {"name": "x"}}) == Condition(("owner",), "$eq", {"name": "x"})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("topic=coffee", "must be a non-empty object"),
        ([{"a": 1}], "must be a non-empty object"),
        ({"a": {"$regex": "x"}}, "unknown operator"),
        ({"$where": "1=1"}, "unknown filter operator"),
        ({"a": {"$in": "x"}}, "non-empty list"),
        ({"a": {"$in": []}}, "non-empty list"),
        ({"a": {"$gt": [1]}}, "number or a string"),
        ({"a": {"$gt": True}}, "number or a string"),
        ({"a": {"$exists": "yes"}}, "true or false"),
        ({"a": {"$contains": ""}}, "non-empty string"),
        ({"$or": []}, "non-empty list"),
        ({"$or": {"a": 1}}, "non-empty list"),
        ({"a..b": 1}, "malformed filter key"),
        ({"": 1}, "non-empty strings"),
        (
            {
                "$not": {
                    "$not": {
                        "$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"$not": {"a": 1}}}}}}}
                    }
                }
            },
            "deeper",
        ),
    ],
)
def test_malformed_filters_are_explained(raw: object, message: str) -> None:
    with pytest.raises(InvalidFilter, match=message):
        parse_filters(raw)


def test_too_many_conditions() -> None:
    with pytest.raises(InvalidFilter, match="at most"):
        parse_filters({f"k{i}": i for i in range(100)})
