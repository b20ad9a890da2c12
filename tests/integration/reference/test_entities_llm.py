"""Entity memory with an LLM configured: a real local chat server speaking the wire format."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from mnemo import AsyncMemory, LLMError, MnemoConfig
from tests.support.fake_chat_server import FakeChatServer, ReceivedRequest, error, reply_json

pytestmark = pytest.mark.asyncio


def _answer(request: ReceivedRequest) -> Any:
    """Extraction or description merge, told apart by the schema the client sent."""
    text = request.body["messages"][0]["content"]
    if "maintain short descriptions" in text:
        return reply_json({"description": "Anna Lopez, Jon's sister, teaches chemistry."})
    return reply_json(
        {
            "entities": [
                {
                    "utterance": 1,
                    "name": "anna lopez",
                    "type": "PERSON",
                    "aliases": ["Annie"],
                    "facts": ["Anna Lopez teaches chemistry."],
                },
                {
                    "utterance": 1,
                    "name": "Riverside College",
                    "type": "organization",
                    "aliases": [],
                    "facts": [],
                },
                {"utterance": 9, "name": "Ghost", "type": "person", "aliases": [], "facts": []},
                {"utterance": 1, "name": "Blob", "type": "spaceship", "aliases": [], "facts": []},
            ],
            "relations": [
                {"utterance": 1, "subject": "Jon", "predicate": "Sister Of", "object": "Annie"},
                {
                    "utterance": 1,
                    "subject": "anna lopez",
                    "predicate": "works at",
                    "object": "Riverside College",
                },
            ],
        }
    )


async def test_llm_extraction_merges_with_offline_knowledge(config: MnemoConfig) -> None:
    async with AsyncMemory(config) as offline:
        await offline.entities.observe("Anna Lopez moved to Porto.", user_id="jon")
    with FakeChatServer() as server:
        server.script(_answer)
        llm_config = dataclasses.replace(
            config,
            llm="openai-compatible:extractor",
            llm_options={"base_url": server.base_url, "max_retries": 0},
        )
        async with AsyncMemory(llm_config) as memory:
            result = await memory.entities.observe(
                "Annie teaches chemistry at Riverside College.", user_id="jon", speaker="Jon"
            )
            assert result.extractor == "llm:openai-compatible/extractor"
            assert sorted(result.created) == ["Jon", "Riverside College"]
            anna = await memory.entities.get("Annie", user_id="jon")
            assert (anna.name, anna.type, anna.mention_count) == ("Anna Lopez", "person", 2)
            assert anna.description == "Anna Lopez, Jon's sister, teaches chemistry."
            college = await memory.entities.get("riverside college", user_id="jon")
            assert college.type == "organisation"
            triples = {(r.subject, r.predicate, r.object) for r in result.relations}
            assert triples == {
                ("Jon", "sister_of", "Anna Lopez"),
                ("Anna Lopez", "works_at", "Riverside College"),
            }
            prompt = server.requests[0].body["messages"][-1]["content"]
            assert "[1] Jon: Annie teaches chemistry" in prompt and "Anna Lopez" in prompt


async def test_llm_failure_raises_and_writes_nothing(config: MnemoConfig) -> None:
    with FakeChatServer() as server:
        server.script(error(500, "model exploded"))
        llm_config = dataclasses.replace(
            config,
            llm="openai-compatible:extractor",
            llm_options={"base_url": server.base_url, "max_retries": 0},
        )
        async with AsyncMemory(llm_config) as memory:
            with pytest.raises(LLMError):
                await memory.entities.observe("Anna teaches at Riverside.", user_id="jon")
            assert await memory.entities.list(user_id="jon") == []
