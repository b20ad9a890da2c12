"""The long-form memory service's example (seed 004, "Example Usage") through the library:
turn 1 in one session, the question in another; the extracted memory and the verbatim
turn both come back."""

from __future__ import annotations

from dataclasses import replace

from mnemo import Memory, MnemoConfig
from tests.integration.lifecycle.conftest import FAST

USER = "user_123"
TURN_1 = "I love espresso and prefer dark roast coffee"
QUESTION = "What kind of coffee should I buy?"
#: What the offline extractor makes of turn 1.
EXTRACTED = "The user loves espresso and prefers dark roast coffee."


def test_the_seed_example_through_the_library(config: MnemoConfig) -> None:
    with Memory(replace(config, lifecycle=FAST)) as m:  # a worker inside, as on the default
        turn = [{"role": "user", "content": TURN_1, "turn_number": 1}]
        m.add(turn, user_id=USER, session_id="monday", infer=True)
        m.flush()  # extraction done
        assert [r.content for r in m.list(user_id=USER)] == [EXTRACTED]

        result = m.context(QUESTION, user_id=USER, session_id="friday")
        past = result.section("past_turns")
        assert past is not None and past.entries and past.entries[0].content == TURN_1
        assert past.entries[0].details["session_id"] == "monday"
        assert f"session monday] user: {TURN_1}" in result.text
        # The memory comes back as found; its text is left to the turn it was taken from.
        memories = result.section("vector_search")
        assert memories is not None
        assert [r.content for r in memories.found_records][:1] == [EXTRACTED]
        assert [(d.content, d.reason, d.kept_in) for d in result.dropped] == [
            (EXTRACTED, "duplicate", "past_turns")
        ]
        assert result.text.count("espresso") == 1


def test_past_turns_come_back_without_extraction(config: MnemoConfig) -> None:
    with Memory(config) as m:  # no worker: nothing is extracted
        m.add([{"role": "user", "content": TURN_1}], user_id=USER, session_id="monday", infer=True)
        result = m.context(QUESTION, user_id=USER, session_id="friday")
        assert m.list(user_id=USER) == []
        assert f"session monday] user: {TURN_1}" in result.text
        # Asked in the same session, the turn is recent conversation, not a past turn.
        same = m.context(QUESTION, user_id=USER, session_id="monday")
        assert f"user: {TURN_1}" in same.text and "session monday]" not in same.text
        past = same.section("past_turns")
        assert past is not None and past.entries == ()
