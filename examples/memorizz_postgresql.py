"""Memorizz's PostgreSQL memory provider, on mnemo: the provider guide's example.

Offline, on the embedded PostgreSQL (or MNEMO_DATABASE_URL / POSTGRES_*). Code written
for Memorizz's provider runs with the import prefix changed:

    from memorizz.memory_provider.postgresql import ...       # before
    from mnemo.compat.memorizz.memory_provider.postgresql import ...   # after

    python examples/memorizz_postgresql.py
"""

from __future__ import annotations

from mnemo.compat.memorizz.memory_provider.memory_type import MemoryType
from mnemo.compat.memorizz.memory_provider.postgresql import PostgreSQLConfig, PostgreSQLProvider


def main() -> None:
    print("PostgreSQL Memory Provider Example")
    print("=" * 50)
    print("Connecting to PostgreSQL...")
    # The guide's PostgreSQLConfig(host="localhost", port=5432, database="memorizz",
    # user="postgres", password="password") connects to that server; with no host,
    # mnemo's own database is used (the embedded one by default).
    config = PostgreSQLConfig(user_id="example-memorizz")
    provider = PostgreSQLProvider(config)
    print("Connected successfully!")
    for memory_type in MemoryType:  # a clean slate for the demo
        provider.delete_all(memory_type)

    print("Example 1: Storing a Persona")
    persona_id = provider.store(
        {
            "name": "Technical Expert",
            "role": "Software engineer",
            "goals": "Help developers write correct, fast code",
            "background": "Ten years of PostgreSQL and Python",
        },
        MemoryType.PERSONAS,
    )
    print(f"Stored persona with ID: {persona_id}")

    print("Example 2: Storing and retrieving a long-term memory")
    data = {
        "name": "My Memory",
        "content": "This is important information",
        "embedding": [0.1, 0.2, 0.3],  # your embedding vector
    }
    memory_id = provider.store(data, MemoryType.LONG_TERM_MEMORY)
    print(f"Stored memory with ID: {memory_id}")
    provider.store(
        {"name": "Another Memory", "content": "Less related", "embedding": [0.9, -0.2, 0.1]},
        MemoryType.LONG_TERM_MEMORY,
    )
    retrieved = provider.retrieve_by_id(memory_id, MemoryType.LONG_TERM_MEMORY)
    assert retrieved is not None
    print(f"Retrieved: {retrieved['name']!r}: {retrieved['content']!r}")

    print("Example 3: Vector similarity search")
    search_embedding = [0.1, 0.2, 0.25]
    similar = provider.retrieve_by_query(
        {"embedding": search_embedding}, MemoryType.LONG_TERM_MEMORY, limit=5
    )
    assert isinstance(similar, list)
    for hit in similar:
        print(f"  {hit['name']}: distance {hit['distance']:.4f}")

    print("Example 4: A conversation, in timestamp order")
    for turn, (role, text) in enumerate(
        [("user", "What is pgvector?"), ("assistant", "A vector type for PostgreSQL.")]
    ):
        provider.store(
            {
                "role": role,
                "content": text,
                "memory_id": "conversation-1",
                "timestamp": f"2026-01-01T10:00:0{turn}+00:00",
            },
            MemoryType.CONVERSATION_MEMORY,
        )
    history = provider.retrieve_conversation_history_ordered_by_timestamp("conversation-1")
    for unit in history:
        print(f"  {unit['role']}: {unit['content']}")

    print("Example 5: Text search and an agent")
    found = provider.retrieve_by_query("who knows PostgreSQL?", MemoryType.PERSONAS)
    assert isinstance(found, dict)
    print(f"  best persona for the question: {found['name']}")
    agent_id = provider.store_memagent(
        {"instruction": "Answer database questions", "memory_ids": ["conversation-1"]}
    )
    provider.update_memagent_memory_ids(agent_id, ["conversation-1", "conversation-2"])
    agent = provider.retrieve_memagent(agent_id)
    assert agent is not None
    print(f"  agent {agent['agent_id']} remembers {agent['memory_ids']}")
    provider.delete_memagent(agent_id, cascade=True)
    left = provider.retrieve_conversation_history_ordered_by_timestamp("conversation-1")
    print(f"  after deleting the agent with cascade: {len(left)} conversation units left")

    provider.close()
    print("All examples completed successfully!")


if __name__ == "__main__":
    main()
