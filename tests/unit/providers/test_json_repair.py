"""repair_json: the ways models mangle JSON, and what comes back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mnemo.providers.llms.base import JSONRepairError, repair_json


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # already valid
        ('{"a": 1}', {"a": 1}),
        ("[1, 2, 3]", [1, 2, 3]),
        ('  \ufeff{"a": 1}\n', {"a": 1}),
        # code fences
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('```\n{"a": 1}\n```', {"a": 1}),
        ('```JSON {"a": 1}```', {"a": 1}),
        ('Result:\n```json\n{"a": [1]}\n```\nLet me know!', {"a": [1]}),
        ('```json\n{"a": 1', {"a": 1}),  # fence never closed, value truncated
        # prose around the value
        ('Sure! Here is the JSON: {"a": 1}', {"a": 1}),
        ('{"a": 1}\n\nI hope this helps.', {"a": 1}),
        ('The list [below] is: {"a": 2}', {"a": 2}),  # a bracket in prose is skipped
        ('Answer: [{"a": 1}] done', [{"a": 1}]),
        # trailing commas
        ('{"a": 1,}', {"a": 1}),
        ('{"a": [1, 2,], "b": {"c": 3,},}', {"a": [1, 2], "b": {"c": 3}}),
        ('{"a": [1, 2 , \n ] }', {"a": [1, 2]}),
        # Python constants
        ('{"a": True, "b": False, "c": None}', {"a": True, "b": False, "c": None}),
        # truncated values
        ('{"a": [1, 2', {"a": [1, 2]}),
        ('{"a": {"b": 1}', {"a": {"b": 1}}),
        ('{"a": 1, "b"', {"a": 1}),
        ('{"a": 1, "b":', {"a": 1}),
        ('{"a": 1, "b": tr', {"a": 1}),
        ('{"a": 1, "b": "half a sent', {"a": 1}),  # a cut string is dropped, not closed
        ('[{"k": "x"}, {"k": "y", "c": "Alice li', [{"k": "x"}, {"k": "y"}]),
        ('{"a": [1, 2,', {"a": [1, 2]}),
        ("{", {}),
        # strings that look like structure are left alone
        ('{"a": "b}, ] {\\"x\\": True,"}', {"a": 'b}, ] {"x": True,'}),
        ('{"a": "True, None"}', {"a": "True, None"}),
        ('{"url": "http://x/y?z=[1]"', {"url": "http://x/y?z=[1]"}),
        # stray or mismatched closers
        ('{"a": [1}', {"a": [1]}),
        ('{"a": 1}}', {"a": 1}),
        # unicode survives
        ('{"name": "Zoë 🌱", "city": "Kraków",}', {"name": "Zoë 🌱", "city": "Kraków"}),
    ],
)
def test_repairs(text: str, expected: Any) -> None:
    assert repair_json(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "no json here", "I cannot help with that.", "```\n```", '"unterminated'],
)
def test_nothing_to_recover_raises(text: str) -> None:
    with pytest.raises(JSONRepairError, match="no JSON value"):
        repair_json(text)


def test_repair_error_is_a_value_error() -> None:
    assert issubclass(JSONRepairError, ValueError)


def test_accept_picks_the_most_complete_acceptable_reading() -> None:
    text = '{"items": [{"k": "x", "v": 1}, {"k": "y", "v": 2}, {"k": "z", "v'

    def complete_items(value: Any) -> bool:
        return all({"k", "v"} <= item.keys() for item in value["items"])

    assert repair_json(text) == {"items": [{"k": "x", "v": 1}, {"k": "y", "v": 2}, {"k": "z"}]}
    assert repair_json(text, accept=complete_items) == {
        "items": [{"k": "x", "v": 1}, {"k": "y", "v": 2}]
    }


def test_accept_falls_back_to_the_most_complete_reading() -> None:
    assert repair_json('{"a": 1', accept=lambda value: False) == {"a": 1}


def test_accept_can_choose_among_several_values_in_prose() -> None:
    text = 'First {"draft": true} then the answer {"final": 1}'
    assert repair_json(text) == {"draft": True}
    assert repair_json(text, accept=lambda v: "final" in v) == {"final": 1}


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
_containers = _json_values.filter(lambda v: isinstance(v, (list, dict)))


@given(
    _containers,
    st.sampled_from(["", "Here:\n", "```json\n"]),
    st.sampled_from(["", "\n```", " ok?"]),
)
def test_valid_json_survives_any_wrapping(value: Any, before: str, after: str) -> None:
    assert repair_json(before + json.dumps(value) + after) == value


@given(_containers, st.data())
def test_any_truncation_decodes_or_raises_cleanly(value: Any, data: st.DataObject) -> None:
    text = json.dumps(value)
    cut = data.draw(st.integers(min_value=1, max_value=len(text)))
    try:
        repaired = repair_json(text[:cut])
    except JSONRepairError:
        return
    assert isinstance(repaired, (list, dict))
