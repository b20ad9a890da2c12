"""The OpenAI Agents SDK with mnemo: the conversation lives in a mnemo session, and the
agent has ``remember`` / ``recall`` / ``forget`` tools over the user's memories.

Offline, on the embedded PostgreSQL (or MNEMO_DATABASE_URL), with the SDK's own
``ScriptedModel`` (``agents.testing``) playing the LLM:

    pip install 'mnemo[openai-agents]'
    python examples/openai_agents_session.py
"""

from __future__ import annotations

import asyncio

from agents import Agent, Runner, set_tracing_disabled
from agents.testing import ScriptedModel, assistant_message, function_call

from mnemo import AsyncMemory
from mnemo.integrations.openai_agents import MnemoSession, memory_tools

USER = "example-agents-user"


def scripted_model() -> ScriptedModel:
    """What an LLM would decide: remember a fact, answer; next run, recall it, answer."""
    remember = {"content": "The user is vegetarian", "kind": "preference"}
    return ScriptedModel(
        [
            [function_call("remember", remember, call_id="call-1")],
            [assistant_message("Noted: vegetarian.")],
            [function_call("recall", {"query": "dietary preferences"}, call_id="call-2")],
            [assistant_message("A mushroom risotto, since you are vegetarian.")],
        ]
    )


async def main() -> None:
    set_tracing_disabled(True)  # traces would otherwise be sent to OpenAI
    async with AsyncMemory() as memory:
        await memory.delete_user(USER)  # a clean slate for the demo user
        agent = Agent(
            name="chef",
            instructions="Remember what matters about the user; recall it before answering.",
            model=scripted_model(),
            tools=memory_tools(memory, user_id=USER),
        )
        session = MnemoSession(memory, session_id="dinner", user_id=USER)
        for request in ("I'm vegetarian.", "What should I cook tonight?"):
            result = await Runner.run(agent, request, session=session)
            print(f"user: {request}\nassistant: {result.final_output}")

        items = await session.get_items()
        print(f"the session holds {len(items)} items:")
        for item in items:
            print("  " + str(item.get("type", "message")), item.get("role", ""))
        hits = await memory.search("what does the user eat?", user_id=USER)
        print("mnemo's own search:", [hit.content for hit in hits])


if __name__ == "__main__":
    asyncio.run(main())
