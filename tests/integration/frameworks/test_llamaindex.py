"""``MnemoMemoryBlock`` in LlamaIndex's ``Memory`` and ``MnemoRetriever``, with MockLLM."""

from __future__ import annotations

from dataclasses import replace

from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock, ToolCallBlock
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.llms import MockLLM
from llama_index.core.memory import Memory as LlamaMemory

from mnemo import AsyncMemory, Memory, MnemoConfig
from mnemo.config import LifecycleConfig
from mnemo.integrations.llamaindex import MnemoMemoryBlock, MnemoRetriever


def llama_memory(block: MnemoMemoryBlock, session_id: str = "chat") -> LlamaMemory:
    """LlamaIndex's memory with a tiny short-term window, so turns flush to the block."""
    return LlamaMemory.from_defaults(
        session_id=session_id, token_limit=40, token_flush_size=20, memory_blocks=[block]
    )


async def test_flushed_messages_become_memories_the_chat_gets_back(sync_memory: Memory) -> None:
    block = MnemoMemoryBlock(memory=sync_memory, user_id="alice", infer=False)
    memory = llama_memory(block)
    await memory.aput_messages(
        [
            ChatMessage(role="user", content="My sister Maria lives in Porto and paints."),
            ChatMessage(role="assistant", content="Lovely, Porto has great light for painting."),
            ChatMessage(role="user", content="I am allergic to peanuts, remember that."),
            ChatMessage(role="assistant", content="Noted, no peanuts."),
        ]
    )
    await memory.aput(ChatMessage(role="user", content="Which city does my sister live in?"))
    chat = await memory.aget()
    notes = sync_memory.list(user_id="alice")
    assert notes[-1].content == "My sister Maria lives in Porto and paints."  # flushed: a note
    assert notes[-1].session_id == "chat"  # the LlamaIndex memory's session
    system = chat[0]
    assert system.role == MessageRole.SYSTEM and "<mnemo>" in (system.content or "")
    assert "Maria lives in Porto" in (system.content or "")


async def test_extraction_and_context_mode(config: MnemoConfig) -> None:
    fast = LifecycleConfig(in_process_worker=True, heartbeat_seconds=0.3, maintenance_cron=None)
    async with AsyncMemory(replace(config, lifecycle=fast)) as engine:
        block = MnemoMemoryBlock(memory=engine, user_id="bob", session_id="s1")
        await block.aput([ChatMessage(role="user", content="I prefer green tea over coffee.")])
        await engine.flush()  # the worker distilled the turn
        assert any(m.kind != "note" for m in await engine.list(user_id="bob"))
        found = await block.aget([ChatMessage(role="user", content="what drink do I like?")])
        assert "green tea" in found
        context = MnemoMemoryBlock(memory=engine, user_id="bob", session_id="s1", mode="context")
        text = await context.aget([ChatMessage(role="user", content="what drink do I like?")])
        assert "green tea" in text
        assert await block.aget([]) == ""


async def test_tool_messages_and_empty_messages(sync_memory: Memory) -> None:
    block = MnemoMemoryBlock(memory=sync_memory, user_id="alice", session_id="s")
    call = ToolCallBlock(tool_call_id="c1", tool_name="weather", tool_kwargs={"city": "Lisbon"})
    await block.aput(
        [
            ChatMessage(role="assistant", blocks=[call]),
            ChatMessage(
                role="tool", content='{"temp_c": 31}', additional_kwargs={"tool_call_id": "c1"}
            ),
            ChatMessage(role="user", blocks=[TextBlock(text="   ")]),  # nothing to keep
        ]
    )
    turns = sync_memory.list_messages(user_id="alice", session_id="s")
    assert [t.role for t in turns] == ["assistant", "tool"]
    assert turns[0].tool_calls == [{"name": "weather", "id": "c1", "arguments": {"city": "Lisbon"}}]
    assert turns[1].tool_results == [{"output": '{"temp_c": 31}', "tool_call_id": "c1"}]


async def test_the_block_keeps_tenants_apart(sync_memory: Memory) -> None:
    acme = MnemoMemoryBlock(memory=sync_memory, user_id="alice", tenant_id="acme", infer=False)
    await acme.aput([ChatMessage(role="user", content="The acme vault code is 7731.")])
    question = [ChatMessage(role="user", content="what is the vault code?")]
    assert "7731" in await acme.aget(question)
    default = MnemoMemoryBlock(memory=sync_memory, user_id="alice", infer=False)
    assert await default.aget(question) == ""
    assert sync_memory.list(user_id="alice") == []  # the engine's own tenant


def test_a_chat_engine_sees_mnemo_memories(sync_memory: Memory) -> None:
    sync_memory.add("Alice's cat is called Miso", user_id="alice")
    block = MnemoMemoryBlock(memory=sync_memory, user_id="alice")
    engine = SimpleChatEngine.from_defaults(llm=MockLLM(), memory=llama_memory(block, "c2"))
    reply = engine.chat("What is my cat called?")
    assert "Miso" in reply.response  # MockLLM echoes its prompt, memory block included


async def test_retriever_sync_async_and_sources(sync_memory: Memory) -> None:
    sync_memory.add("Alice takes the 8:15 train", user_id="alice", metadata={"t": 1})
    sync_memory.add("Bob takes the bus", user_id="bob")
    sync_memory.documents.load("timetable.md", "The 8:15 train leaves from platform 4.",
                               user_id="alice")  # fmt: skip
    retriever = MnemoRetriever(sync_memory, user_id="alice", top_k=1)
    [node] = retriever.retrieve("when is my train?")
    assert node.node.get_content() == "Alice takes the 8:15 train"
    assert node.score is not None and node.score > 0
    assert node.node.metadata["metadata"] == {"t": 1}
    assert [n.node.node_id for n in await retriever.aretrieve("train")] == [node.node.node_id]
    both = MnemoRetriever(sync_memory, user_id="alice", sources=("memories", "documents"))
    sources = {n.node.metadata["source"] for n in both.retrieve("train platform")}
    assert sources == {"memories", "documents"}
    acme = MnemoRetriever(sync_memory, user_id="alice", tenant_id="acme")
    assert acme.retrieve("train") == []
