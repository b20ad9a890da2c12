"""The LangChain adapters against langchain-core and langchain-tests' standard suite."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_tests.integration_tests import RetrieversIntegrationTests

from mnemo import AsyncMemory, ConfigurationError, Conflict, InvalidInput, Memory, MnemoConfig
from mnemo.integrations.langchain import MnemoChatMessageHistory, MnemoRetriever

CONVERSATION = [
    SystemMessage("You are a travel assistant."),
    HumanMessage("What's the weather in Lisbon?", id="h-1"),
    AIMessage(
        "",
        tool_calls=[{"name": "get_weather", "args": {"city": "Lisbon"}, "id": "call-1"}],
        response_metadata={"model_name": "scripted"},
    ),
    ToolMessage('{"temp_c": 31}', tool_call_id="call-1", name="get_weather"),
    ToolMessage("timeout", tool_call_id="call-2", status="error"),
    AIMessage([{"type": "text", "text": "It is 31 °C in Lisbon."}], additional_kwargs={"x": 1}),
    ChatMessage("a chat-class turn", role="user"),
    FunctionMessage("42", name="answer"),
]


def test_history_round_trips_every_message_class(sync_memory: Memory) -> None:
    history = MnemoChatMessageHistory(sync_memory, user_id="alice", session_id="trip")
    history.add_messages(CONVERSATION)
    loaded = history.messages
    assert [type(m) for m in loaded] == [type(m) for m in CONVERSATION]
    for original, back in zip(CONVERSATION, loaded, strict=True):
        assert back.content == original.content
        assert back.additional_kwargs == original.additional_kwargs
        assert back.response_metadata == original.response_metadata
    assert loaded[1].id == "h-1"
    assert loaded[2].tool_calls == CONVERSATION[2].tool_calls  # type: ignore[attr-defined]
    assert (loaded[3].tool_call_id, loaded[3].name, loaded[3].status) == (
        "call-1", "get_weather", "success",
    )  # fmt: skip
    assert loaded[4].status == "error"
    assert loaded[6].role == "user"
    assert loaded[7].name == "answer"
    turns = sync_memory.list_messages(user_id="alice", session_id="trip")
    assert [t.role for t in turns] == [
        "system", "user", "assistant", "tool", "tool", "assistant", "user", "tool",
    ]  # fmt: skip
    assert turns[2].tool_calls == [
        {"name": "get_weather", "id": "call-1", "arguments": {"city": "Lisbon"}}
    ]
    assert turns[5].content == "It is 31 °C in Lisbon."
    hits = sync_memory.search_messages("weather tool result", user_id="alice", session_id="trip")
    assert any(h.role == "tool" for h in hits)


def test_history_appends_and_never_rewrites(sync_memory: Memory) -> None:
    history = MnemoChatMessageHistory(sync_memory, user_id="alice", session_id="s")
    history.add_user_message("first")
    first_id = history.messages[0].id
    history.add_messages([HumanMessage("first", id="h-1")])
    history.add_messages([HumanMessage("first", id="h-1")])  # a retry: stored once
    with pytest.raises(Conflict, match="idempotency key 'h-1'"):
        history.add_messages([HumanMessage("rewritten", id="h-1")])
    history.add_ai_message("second")
    assert [m.content for m in history.messages] == ["first", "first", "second"]
    assert history.messages[0].id == first_id
    other = MnemoChatMessageHistory(sync_memory, user_id="bob", session_id="s")
    assert other.messages == []
    history.clear()
    assert history.messages == []


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (HumanMessage(""), "message 1 content must not be empty"),
        (ChatMessage("x", role="narrator"), "role 'narrator' is not one of"),
        (RemoveMessage(id="x"), "RemoveMessage is not a turn"),
        (HumanMessage("ok", additional_kwargs={"f": object()}), "JSON-serialisable"),
    ],
)
def test_history_refuses_bad_messages_as_value_errors(
    sync_memory: Memory, bad: Any, says: str
) -> None:
    history = MnemoChatMessageHistory(sync_memory, user_id="alice", session_id="s")
    with pytest.raises(ValueError, match=says) as caught:
        history.add_messages([HumanMessage("kept out too"), bad])
    assert isinstance(caught.value, InvalidInput)
    assert history.messages == []  # all or none


async def test_history_async_on_both_faces(config: MnemoConfig, sync_memory: Memory) -> None:
    async with AsyncMemory(config) as engine:
        for memory in (engine, sync_memory):
            history = MnemoChatMessageHistory(memory, user_id="u", session_id=type(memory).__name__)
            await history.aadd_messages([HumanMessage("hello"), AIMessage("hi")])
            assert [m.content for m in await history.aget_messages()] == ["hello", "hi"]
            await history.aclear()
            assert await history.aget_messages() == []
        with pytest.raises(ConfigurationError, match="async methods"):
            MnemoChatMessageHistory(engine, user_id="u", session_id="s").messages  # noqa: B018


def test_history_keeps_tenants_apart(sync_memory: Memory) -> None:
    acme = MnemoChatMessageHistory(sync_memory, user_id="u", session_id="s", tenant_id="acme")
    globex = MnemoChatMessageHistory(sync_memory, user_id="u", session_id="s", tenant_id="globex")
    acme.add_user_message("acme's secret")
    assert globex.messages == []
    assert [m.content for m in acme.messages] == ["acme's secret"]


def test_retriever_returns_scored_documents(sync_memory: Memory) -> None:
    sync_memory.add("Alice prefers dark roast coffee", user_id="alice", metadata={"t": "coffee"})
    sync_memory.add("Alice lives in Porto", user_id="alice", kind="fact")
    sync_memory.add("Bob prefers tea", user_id="bob")
    retriever = MnemoRetriever(memory=sync_memory, user_id="alice", k=1)
    [doc] = retriever.invoke("what coffee does she drink?")
    assert doc.page_content == "Alice prefers dark roast coffee"
    assert doc.metadata["source"] == "memories" and doc.metadata["score"] > 0
    assert {"relevance", "recency"} <= set(doc.metadata["scores"])
    assert doc.metadata["metadata"] == {"t": "coffee"}
    facts = MnemoRetriever(memory=sync_memory, user_id="alice", kinds=["fact"]).invoke("coffee")
    assert [d.page_content for d in facts] == ["Alice lives in Porto"]
    with pytest.raises(ValueError, match="limit"):
        retriever.invoke("coffee", k=0)
    other = MnemoRetriever(memory=sync_memory, user_id="alice", tenant_id="acme")
    assert other.invoke("coffee") == []  # the same user id in another tenant holds nothing


def test_retriever_over_memories_and_documents(sync_memory: Memory) -> None:
    sync_memory.add("Alice's espresso machine is a Gaggia", user_id="alice")
    sync_memory.documents.load(
        "manual.md",
        "To descale the espresso machine, run citric acid through it monthly.",
        user_id="alice",
    )
    retriever = MnemoRetriever(
        memory=sync_memory, user_id="alice", sources=("memories", "documents"), k=5
    )
    docs = retriever.invoke("espresso machine")
    assert {d.metadata["source"] for d in docs} == {"memories", "documents"}
    passage = next(d for d in docs if d.metadata["source"] == "documents")
    assert passage.metadata["document_name"] == "manual.md"


class TestStandardRetriever(RetrieversIntegrationTests):
    """langchain-tests' retriever suite, on a real database holding five memories."""

    @pytest.fixture(autouse=True)
    def _memory(self, sync_memory: Memory) -> None:
        sync_memory.add_many(
            [{"content": f"note {n} about the garden"} for n in range(5)], user_id="alice"
        )
        self.memory = sync_memory

    @property
    def retriever_constructor(self) -> type[MnemoRetriever]:
        return MnemoRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"memory": self.memory, "user_id": "alice"}

    @property
    def retriever_query_example(self) -> str:
        return "garden"
