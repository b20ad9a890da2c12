"""LangChain with mnemo: each session's chat history in mnemo, and a retriever that puts
the user's memories into the prompt.

Offline, on the embedded PostgreSQL (or MNEMO_DATABASE_URL), with LangChain's own
scripted chat model standing in for an LLM:

    pip install 'mnemo[langchain]'
    python examples/langchain_chat.py
"""

from __future__ import annotations

from typing import Any

from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnablePassthrough
from langchain_core.runnables.history import RunnableWithMessageHistory

from mnemo import Memory
from mnemo.integrations.langchain import MnemoChatMessageHistory, MnemoRetriever

USER = "example-langchain-user"


def main() -> None:
    with Memory() as memory:
        memory.delete_user(USER)  # a clean slate for the demo user
        memory.add("Training for the Lisbon marathon in October", user_id=USER, kind="fact")
        memory.add("Prefers running early in the morning", user_id=USER, kind="preference")

        retriever = MnemoRetriever(memory=memory, user_id=USER, k=2)
        model = GenericFakeChatModel(
            messages=iter(["Try a 6 km easy run at 7:00.", "You said the Lisbon marathon."])
        )
        prompt = ChatPromptTemplate(
            [
                ("system", "What you know about the user:\n{memories}"),
                MessagesPlaceholder("history"),
                ("human", "{question}"),
            ]
        )

        def recall(inputs: dict[str, Any]) -> str:
            documents: list[Document] = retriever.invoke(inputs["question"])
            return "\n".join(f"- {d.page_content} (score {d.metadata['score']:.2f})"
                             for d in documents)  # fmt: skip

        chain = RunnablePassthrough.assign(memories=recall) | prompt | model
        chat = RunnableWithMessageHistory(
            chain,
            lambda session_id: MnemoChatMessageHistory(memory, user_id=USER, session_id=session_id),
            input_messages_key="question",
            history_messages_key="history",
        )
        config: Any = {"configurable": {"session_id": "morning"}}
        for question in ("What should I run tomorrow?", "Which race am I training for?"):
            print("retrieved:", recall({"question": question}).replace("\n", " | "))
            answer = chat.invoke({"question": question}, config=config)
            print(f"user: {question}\nassistant: {answer.content}")

        turns = memory.list_messages(user_id=USER, session_id="morning")
        print(f"mnemo holds {len(turns)} turns of session 'morning':")
        for turn in turns:
            print(f"  {turn.turn_number}. {turn.role}: {turn.content}")


if __name__ == "__main__":
    main()
