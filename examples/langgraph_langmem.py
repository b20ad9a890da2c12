"""LangGraph with mnemo: a LangMem agent keeps its long-term memories in mnemo.

``MnemoStore`` is the graph's store: LangMem's ``manage_memory`` tool writes items
into the namespace ``("memories", <user>)``, which mnemo keeps as that user's
memories, and its ``search_memory`` tool finds them with mnemo's hybrid search.

Offline, on the embedded PostgreSQL (or MNEMO_DATABASE_URL), with LangChain's
scripted chat model deciding which tools to call:

    pip install 'mnemo[langgraph]' langmem
    python examples/langgraph_langmem.py
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.prebuilt import create_react_agent
from langmem import create_manage_memory_tool, create_search_memory_tool

from mnemo import Memory
from mnemo.integrations.langgraph import MnemoStore

USER = "example-langgraph-user"
NAMESPACE = ("memories", "{langgraph_user_id}")


def scripted_model(tools: list[Any]) -> Any:
    """What an LLM would decide: remember a preference, answer; later search, answer."""
    remember = {"name": "manage_memory", "id": "call-1",
                "args": {"content": "Prefers a window seat on long flights"}}  # fmt: skip
    search = {"name": "search_memory", "id": "call-2", "args": {"query": "seat preference"}}
    replies = iter(
        [
            AIMessage("", tool_calls=[remember]),
            AIMessage("Noted: window seat."),
            AIMessage("", tool_calls=[search]),
            AIMessage("I booked you a window seat, as you prefer."),
        ]
    )
    model = GenericFakeChatModel(messages=replies)
    return model.bind(tools=[convert_to_openai_tool(tool) for tool in tools])


def main() -> None:
    with Memory() as memory:
        memory.delete_user(USER)  # a clean slate for the demo user
        store = MnemoStore(memory, user_label=1, index={"fields": ["content"]})
        tools = [create_manage_memory_tool(NAMESPACE), create_search_memory_tool(NAMESPACE)]
        agent = create_react_agent(scripted_model(tools), tools, store=store)
        config: Any = {"configurable": {"langgraph_user_id": USER}}

        for request in ("I always want a window seat on long flights.", "Book my flight."):
            result = agent.invoke({"messages": [("user", request)]}, config)
            for message in result["messages"][-3:]:
                if message.type == "tool":
                    print(f"tool {message.name}: {message.content}")
            print(f"user: {request}\nassistant: {result['messages'][-1].content}")

        print("mnemo's own search, for the same user:")
        for hit in memory.search("where does the user like to sit?", user_id=USER):
            item = hit.metadata["langgraph"]
            print(
                f"  {hit.content!r} (namespace {tuple(item['namespace'])}, score {hit.score:.2f})"
            )


if __name__ == "__main__":
    main()
