"""The sync face: ``Memory.context`` runs the engine's, with the same result and errors."""

from __future__ import annotations

import pytest

from mnemo import ContextResult, InvalidInput, Memory, MnemoConfig


def test_sync_context_and_its_errors(config: MnemoConfig) -> None:
    with Memory(config) as m:
        m.add_messages(
            [
                {"role": "user", "content": "My cat Miso only eats salmon."},
                {"role": "assistant", "content": "Got it: salmon for Miso."},
            ],
            user_id="bo",
            session_id="pets",
        )
        m.add("Bo lives in Utrecht", user_id="bo", kind="fact")
        m.settings.set("tone", "playful", user_id="bo")
        result = m.context("What does Miso eat?", user_id="bo", session_id="pets", max_tokens=300)
        assert isinstance(result, ContextResult) and str(result) == result.text
        assert "user: My cat Miso only eats salmon." in result.text
        assert "- tone: playful" in result.text and "Bo lives in Utrecht" in result.text
        assert result.tokens <= 300
        with pytest.raises(InvalidInput, match="max_tokens"):
            m.context("What does Miso eat?", user_id="bo", max_tokens=-3)
        with pytest.raises(InvalidInput, match="unknown context section"):
            m.context("What does Miso eat?", user_id="bo", sections=["cats"])
        assert m.stats("bo")["rows"]["memories"] == 1
