"""Real data for the inspector's browser tests, stored through the engine as an
application would: extracted memories with a supersession, a conversation with a
tool call, a dead-lettered turn, a document, a setting with history, hostile text,
and a second tenant whose rows must never show."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from mnemo import AsyncMemory, MnemoConfig
from tests.integration.lifecycle.conftest import FAST
from tests.support.dead_letters import dead_letter

TENANT = "acme"
MARCH = datetime(2024, 3, 10, 9, 0, tzinfo=UTC)
JUNE = datetime(2024, 6, 2, 18, 30, tzinfo=UTC)
AUGUST = datetime(2024, 8, 20, 14, 0, tzinfo=UTC)
#: Markup and script in stored text: the inspector must show it as text, inertly.
HOSTILE = (
    '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    '<a href="javascript:window.__pwned=3">click</a>'
)
#: User ids travel in URL paths, where "/" cannot appear (it would split the path).
HOSTILE_USER = '<img src=x onerror="window.__pwned=4">mallory'
#: The same for session ids and setting keys, which are path segments too.
HOSTILE_SESSION = '<svg onload="window.__pwned=5">chat'
HOSTILE_KEY = '<img src=x onerror="window.__pwned=6">tone'
#: A document of markup: its name, title, headings and passages must stay text.
HOSTILE_DOCUMENT = (
    '# <img src=x onerror="window.__pwned=7">Guide\n\n'
    "<script>window.__pwned=8</script> The onerror guide covers hostile markup.\n"
)


@dataclass(frozen=True)
class Seeded:
    paris: str
    berlin: str
    hostile: str
    failed_turn: str
    #: Mallory's (HOSTILE_USER's) memory of hostile text and metadata.
    mallory: str = ""
    #: A memory of user zed in another tenant, which the seeded tenant's key never reads.
    zed: str = ""


def user_turn(content: str, when: datetime) -> dict[str, object]:
    return {"role": "user", "name": "Alice", "content": content, "created_at": when}


def seeding_config(config: MnemoConfig) -> MnemoConfig:
    """``config`` for tenant ``acme`` with a fast in-process worker."""
    return replace(config, lifecycle=FAST, tenant_id=TENANT)


async def seed_dead_letter(config: MnemoConfig) -> str:
    """A turn of alice whose extraction failed for good (before any other worker runs)."""
    return await dead_letter(seeding_config(config), user_turn("I'm allergic to peanuts.", AUGUST),
                             user_id="alice", session_id="health")  # fmt: skip


async def seed(config: MnemoConfig, failed: str) -> Seeded:
    """Store the rest of the inspector's test data in ``config``'s database."""
    async with AsyncMemory(seeding_config(config)) as m:
        first = await m.add([user_turn("I live in Paris.", MARCH)], user_id="alice",
                            session_id="trip", infer=True, wait=True)  # fmt: skip
        second = await m.add(
            [user_turn("I moved to Berlin last week. I love hiking.", JUNE),
             {"role": "assistant", "content": "Noted, I'll look for trails near Berlin.",
              "created_at": JUNE,
              "tool_calls": [{"id": "call_1", "type": "function", "function": {
                  "name": "find_trails", "arguments": '{"city": "Berlin", "note": "' +
                  HOSTILE.replace('"', "'") + '"}'}}]},
             {"role": "tool", "content": "3 trails found", "created_at": JUNE,
              "tool_results": [{"tool_call_id": "call_1", "name": "find_trails",
                                "output": "Grunewald, Tegel"}]}],
            user_id="alice", session_id="trip", infer=True, wait=True,
        )  # fmt: skip
        hostile = await m.add(HOSTILE, user_id="alice", kind="note", created_at=AUGUST)
        await m.add("Alice prefers window seats on trains.", user_id="alice",
                    kind="preference", importance=0.8, created_at=AUGUST)  # fmt: skip
        await m.documents.load("rail-pass.md", "# Rail pass\n\nThe pass covers every regional "
                               "train in Germany until December.\n\n## Refunds\n\nRefunds take "
                               "ten days.", user_id="alice")  # fmt: skip
        for value, reason in (("calm", "first set-up"), ("cheerful", "user asked"),
                              (HOSTILE, "a hostile value")):  # fmt: skip
            await m.settings.set("voice", value, user_id="alice", actor="app", reason=reason)
        await m.add("Bob's only note: call the bank.", user_id="bob")
        await m.add("Carol keeps bees.", user_id="carol")
        await m.add("A note of a user with a hostile id.", user_id=HOSTILE_USER)
        mallory = await seed_hostile(m)
        zed = await m.for_tenant("other").add("zed's secret: the vault code is 7731",
                                              user_id="zed")  # fmt: skip
        await m.flush()
    paris = first.memories[0].id
    berlin = next(r.id for r in second.memories if "Berlin" in r.content)
    return Seeded(paris=paris, berlin=berlin, hostile=hostile.id, failed_turn=failed,
                  mallory=mallory, zed=zed.id)  # fmt: skip


async def seed_hostile(m: AsyncMemory) -> str:
    """Hostile text in every place the inspector shows for HOSTILE_USER: a memory (and its
    metadata), a session (id, turns, tool call, extraction), a document, a setting (key,
    value, actor, reason). Returns the memory's id."""
    user = HOSTILE_USER
    memory = await m.add(HOSTILE, user_id=user, kind="note", metadata={"<b>tag</b>": HOSTILE})
    await m.add(
        [{"role": "user", "name": HOSTILE_USER, "content": "My onerror question: " + HOSTILE},
         {"role": "assistant", "content": HOSTILE, "tool_calls": [{"id": "call_h",
          "type": "function", "function": {"name": "lookup",
                                            "arguments": json.dumps({"q": HOSTILE})}}]},
         {"role": "tool", "content": HOSTILE, "tool_results": [
             {"tool_call_id": "call_h", "name": "lookup", "output": HOSTILE}]}],
        user_id=user, session_id=HOSTILE_SESSION, infer=True, wait=True,
    )  # fmt: skip
    await m.documents.load("<b>onerror</b>.md", HOSTILE_DOCUMENT, user_id=user, title=HOSTILE)
    for value in ("plain", HOSTILE):
        await m.settings.set(HOSTILE_KEY, value, user_id=user, actor=HOSTILE, reason=HOSTILE)
    return memory.id
