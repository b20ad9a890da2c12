"""The conversation API through the synchronous ``Memory``."""

from __future__ import annotations

import pytest

from mnemo import Conflict, Memory, MessagePage, MnemoConfig


def test_sync_messages_buffers_summaries_and_health(config: MnemoConfig) -> None:
    with Memory(config) as m:
        ids = m.add_messages(
            [
                {"role": "user", "content": "What's the capital of Australia?"},
                {"role": "assistant", "content": "Canberra.", "idempotency_key": "a1"},
            ],
            user_id="alice",
            session_id="quiz",
        )
        assert (
            m.add_messages(
                [{"role": "assistant", "content": "Canberra.", "idempotency_key": "a1"}],
                user_id="alice",
                session_id="quiz",
            )
            == ids[1:]
        )
        listed = m.list_messages(user_id="alice", session_id="quiz")
        assert [r.id for r in listed] == ids
        hits = m.search_messages("Australian capital", user_id="alice", limit=1)
        assert hits[0].id in ids and hits[0].score > 0
        scope = m.scope("alice", session_id="quiz")
        page = m.messages.page(scope, limit=1)
        assert isinstance(page, MessagePage) and page.next_cursor is not None
        assert m.messages.session_stats(scope).messages == 2
        buffer = m.conversation_buffer(window_size=1)
        assert [x["content"] for x in buffer.get_context(scope)["messages"]] == ["Canberra."]
        summary = m.conversation_summary(buffer_window_size=1)
        summary.add(scope, [{"role": "user", "content": "And of Canada?"}])
        context = summary.get_context(scope)
        assert context["summarized_through_turn"] == 2 and "Australia" in context["summary"]
        assert m.health().status == "healthy"
        with pytest.raises(Conflict):
            m.add_messages(
                [{"role": "user", "content": "x", "turn_number": 1}],
                user_id="alice",
                session_id="quiz",
            )
