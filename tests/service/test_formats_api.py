"""``/v1/messages`` with OpenAI, Anthropic and Responses messages: in and back unchanged."""

from __future__ import annotations

import pytest

from mnemo.core.formats import plain
from tests.sdk_conversations import CONVERSATIONS
from tests.service.conftest import Service

pytestmark = pytest.mark.asyncio
API = "/api/v1"


@pytest.mark.parametrize("fmt", list(CONVERSATIONS))
async def test_a_provider_conversation_round_trips_over_rest(service: Service, fmt: str) -> None:
    messages = [plain(m) for m in CONVERSATIONS[fmt]()]
    async with service.client(await service.key("acme")) as c:
        added = await c.post(
            f"{API}/messages", json={"user_id": "u1", "session_id": "s1", "messages": messages}
        )
        assert added.status_code == 201, added.text
        assert len(added.json()["ids"]) == len(messages)
        back = await c.get(
            f"{API}/messages", params={"user_id": "u1", "session_id": "s1", "format": fmt}
        )
        assert back.status_code == 200 and back.json() == messages
        mnemo = await c.get(f"{API}/messages", params={"user_id": "u1", "session_id": "s1"})
        assert any(m.get("tool_calls") for m in mnemo.json())


async def test_rest_names_the_bad_message_and_stores_nothing(service: Service) -> None:
    async with service.client(await service.key("acme")) as c:
        bad = await c.post(
            f"{API}/messages",
            json={"user_id": "u1", "session_id": "s1", "format": "openai", "messages": [
                {"role": "user", "content": "reset widget 42"},
                {"role": "tool", "tool_call_id": "call_x", "content": "ok"},
            ]},
        )  # fmt: skip
        assert 400 <= bad.status_code < 500
        assert "message 1" in bad.text and "call_x" in bad.text
        listed = await c.get(f"{API}/messages", params={"user_id": "u1", "session_id": "s1"})
        assert listed.json() == []
        wrong = await c.get(f"{API}/messages", params={"user_id": "u1", "format": "gpt"})
        assert wrong.status_code == 422


async def test_buffer_and_summary_windows_over_rest(service: Service) -> None:
    messages = [plain(m) for m in CONVERSATIONS["openai"]()]
    async with service.client(await service.key("acme")) as c:
        added = await c.post(
            f"{API}/messages", json={"user_id": "u1", "session_id": "s1", "messages": messages}
        )
        assert added.status_code == 201, added.text
        scope = {"user_id": "u1", "session_id": "s1"}
        window = await c.get(
            f"{API}/messages/window", params={**scope, "window_size": 3, "format": "openai"}
        )
        assert window.status_code == 200, window.text
        # The last 3 turns are call, result, answer: the pair stays whole.
        assert window.json()["messages"] == messages[-3:]
        cut = await c.get(
            f"{API}/messages/window", params={**scope, "window_size": 2, "format": "anthropic"}
        )
        assert cut.json()["messages"] == [{"role": "assistant", "content": "Widget 42 was reset."}]
        summarized = await c.get(
            f"{API}/messages/summarized",
            params={**scope, "buffer_window_size": 4, "format": "responses"},
        )
        assert summarized.status_code == 200, summarized.text
        body = summarized.json()
        assert body["summary"] and body["messages"][-1] == {
            "role": "assistant", "content": "Widget 42 was reset."
        }  # fmt: skip
        assert body["messages"][0].get("type") != "function_call_output"
