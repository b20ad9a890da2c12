"""One user with something in every memory kind, in a database shared by this folder's
read-only tests (filling it embeds ~20 passages; context calls only read)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from psycopg.conninfo import conninfo_to_dict

from mnemo import AsyncMemory, MnemoConfig
from mnemo.providers.embedders.base import Embedder
from tests.conftest import create_database, drop_database, with_database

USER = "alice"
SESSION = "trip"
TURNS = [
    ("user", "Hi! I am planning a trip to Lisbon in May with my sister Anna."),
    ("assistant", "Lovely. How many days will you stay?"),
    ("user", "Five days. I prefer window seats on long flights."),
    ("assistant", "Noted. Any budget in mind?"),
    ("user", "About 1200 euros for both of us."),
    ("assistant", "Great, I will look for hotels near Alfama."),
    ("user", "Anna loves old trams, by the way."),
    ("assistant", "Then tram 28 is a must."),
]
#: An earlier session: its turns come back as relevant past turns.
PAST_SESSION = "spring"
PAST_TURNS = [
    ("user", "Anna and I rode tram 28 up to the castle last spring."),
    ("assistant", "Sounds like a lovely ride."),
]
MEMORIES = [
    {"content": "I prefer window seats on long flights.", "kind": "preference"},
    {"content": "Alice is allergic to peanuts", "kind": "fact"},
    {"content": "Alice works as a nurse in Porto", "kind": "fact"},
]
GUIDE = (
    "# Lisbon guide\n\n## Trams\n\nTram 28 runs from Martim Moniz through Alfama to "
    "Estrela. A single ticket costs 3 euros.\n\n## Food\n\nTry pastel de nata in Belem."
)


@pytest.fixture(scope="module")
def shared_url(server_url: str, template_url: str) -> Iterator[str]:
    """A migrated database for the whole module."""
    name = f"mnemo_ctx_{uuid.uuid4().hex[:10]}"
    create_database(server_url, name, template=conninfo_to_dict(template_url)["dbname"])
    yield with_database(server_url, name)
    drop_database(server_url, name)


@pytest.fixture(scope="module")
async def filled(shared_url: str, embedder: Embedder) -> AsyncIterator[AsyncMemory]:
    """An engine over ``shared_url`` where ``USER`` has turns, a summary, memories,
    settings, an instruction, entities, a document and working memory."""
    config = MnemoConfig(database_url=shared_url, embedder=embedder, background_flush_seconds=0.05)
    async with AsyncMemory(config) as memory:
        await fill(memory)
        yield memory


async def fill(memory: AsyncMemory) -> None:
    """Store the user's data (see the module docstring)."""
    await memory.settings.set("persona", "concise and friendly", user_id=USER)
    await memory.settings.set("language", "English", user_id=USER)
    await memory.settings.set("language", "Portuguese", user_id=USER, session_id=SESSION)
    await memory.add("Always give distances in kilometres", user_id=USER, kind="instruction")
    await memory.add_messages(
        [{"role": role, "content": text} for role, text in TURNS], user_id=USER, session_id=SESSION
    )
    await memory.add_messages(
        [{"role": role, "content": text} for role, text in PAST_TURNS],
        user_id=USER,
        session_id=PAST_SESSION,
    )
    await memory.add_many(MEMORIES, user_id=USER, contextual=False)
    summary = await memory.conversation_summary(buffer_window_size=4)
    await summary.refresh(memory.scope(USER, session_id=SESSION))
    await memory.entities.observe(
        "My sister Anna lives in Lisbon and works at Acme Corp.", user_id=USER, speaker="Alice"
    )
    await memory.documents.load("lisbon.md", GUIDE, user_id=USER)
    await memory.working.put(
        "trip-planning", "budget", {"eur": 1200}, user_id=USER, session_id=SESSION, importance=0.9
    )
    await memory.working.append_step(
        "trip-planning", "compare flights", {"cheapest": "TAP"}, user_id=USER, session_id=SESSION
    )
    await memory.flush()
