"""Checks and codec of key-value / working-memory values — pure, no I/O."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mnemo.core.values import (
    MAX_TTL_SECONDS,
    decode_value,
    encode_value,
    require_json,
    require_key,
    require_name,
    require_ttl,
    require_version,
)
from mnemo.errors import InvalidInput

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text().filter(lambda t: "\x00" not in t),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text().filter(lambda t: "\x00" not in t), inner, max_size=5)
    ),
    max_leaves=30,
)


@given(json_values, st.sampled_from([None, 1, 64, 10_000]))
def test_encoding_round_trips_any_json(value: Any, threshold: int | None) -> None:
    encoded = encode_value(value, max_bytes=10**7, compress_min_bytes=threshold)
    assert (encoded.json_text is None) != (encoded.packed is None)
    stored = json.loads(encoded.json_text) if encoded.json_text is not None else None
    assert decode_value(stored, encoded.packed) == value
    assert encoded.size == len(
        json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    )


def test_large_compressible_values_are_packed_and_small_ones_are_not() -> None:
    big = {"text": "all work and no play " * 1000}
    packed = encode_value(big, max_bytes=10**6, compress_min_bytes=4096)
    assert packed.packed is not None and len(packed.packed) < packed.size / 10
    assert decode_value(None, packed.packed) == big
    small = encode_value({"a": 1}, max_bytes=10**6, compress_min_bytes=4096)
    assert small.json_text == '{"a":1}' and small.packed is None
    never = encode_value(big, max_bytes=10**6, compress_min_bytes=None)
    assert never.packed is None


def test_incompressible_values_stay_json() -> None:
    noise = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(3000))  # varied CJK text
    encoded = encode_value(noise, max_bytes=10**6, compress_min_bytes=16)
    assert decode_value(json.loads(encoded.json_text or "null"), encoded.packed) == noise


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1: "a"}, "non-string key"),
        ({"a": {2, 3}}, "set is not supported"),
        ([math.inf], "finite"),
        ({"k\x00": 1}, "NUL"),
        (b"raw", "bytes is not supported"),
        (object(), "object is not supported"),
        ({"text": "broken \ud800 surrogate"}, "lone surrogate"),
    ],
)
def test_non_json_values_are_refused(value: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        require_json(value)


def test_deep_nesting_and_size_limits() -> None:
    deep: Any = 1
    for _ in range(70):
        deep = [deep]
    with pytest.raises(InvalidInput, match="nested deeper"):
        require_json(deep)
    with pytest.raises(InvalidInput, match="the limit is 10"):
        encode_value("x" * 20, max_bytes=10, compress_min_bytes=None)


def test_names_keys_ttls_and_versions() -> None:
    assert require_name("user_context") == "user_context"
    assert require_name("a.b:c/d-e") == "a.b:c/d-e"
    for bad in ("", "-x", "has space", "x" * 65, None, 3):
        with pytest.raises(InvalidInput, match="namespace"):
            require_name(bad)
    assert require_key("any key: ünicode") == "any key: ünicode"
    for bad_key in ("", "   ", "k" * 513, "a\x00", "\udc80", None):
        with pytest.raises(InvalidInput, match="key"):
            require_key(bad_key)
    assert require_ttl(None) is None and require_ttl(5) == 5.0
    for bad_ttl in (0, -1, math.nan, math.inf, MAX_TTL_SECONDS + 1, True, "60"):
        with pytest.raises(InvalidInput, match="ttl_seconds"):
            require_ttl(bad_ttl)
    assert require_version(None) is None and require_version(0) == 0
    for bad_version in (-1, 1.5, True, "1"):
        with pytest.raises(InvalidInput, match="expected_version"):
            require_version(bad_version)
