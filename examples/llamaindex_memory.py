"""LlamaIndex with mnemo: a memory block puts the user's mnemo memories into every chat,
and a retriever finds memories and reference passages.

Offline, on the embedded PostgreSQL (or MNEMO_DATABASE_URL), with LlamaIndex's own
``MockLLM``, which answers by echoing the prompt it was given, so you can see the
memories arrive in it:

    pip install 'mnemo[llamaindex]'
    python examples/llamaindex_memory.py
"""

from __future__ import annotations

from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.llms import MockLLM
from llama_index.core.memory import Memory as ChatMemory

from mnemo import Memory
from mnemo.integrations.llamaindex import MnemoMemoryBlock, MnemoRetriever

USER = "example-llamaindex-user"


def main() -> None:
    with Memory() as memory:
        memory.delete_user(USER)  # a clean slate for the demo user
        memory.add("The user's cat is called Miso", user_id=USER, kind="fact")
        memory.add("The user is allergic to peanuts", user_id=USER, kind="fact")
        memory.documents.load("cat-care.md", "# Feeding\nAdult cats eat twice a day.", user_id=USER)

        block = MnemoMemoryBlock(memory=memory, user_id=USER, limit=2)
        chat_memory = ChatMemory.from_defaults(session_id="evening", memory_blocks=[block])
        engine = SimpleChatEngine.from_defaults(llm=MockLLM(), memory=chat_memory)
        reply = engine.chat("What is my cat called?")
        print("the prompt the model got (MockLLM echoes it):")
        print("  " + reply.response.replace("\n", "\n  "))

        retriever = MnemoRetriever(memory, user_id=USER, sources=("memories", "documents"))
        print("retrieved for 'feeding my cat':")
        for found in retriever.retrieve("feeding my cat"):
            source = found.node.metadata["source"]
            print(f"  [{source}] {found.node.get_content()!r} score {found.score:.2f}")


if __name__ == "__main__":
    main()
