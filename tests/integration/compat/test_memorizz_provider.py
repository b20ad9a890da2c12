"""Memorizz's ``PostgreSQLProvider`` on mnemo, every method against the real PostgreSQL.

The provider is configured the way the Memorizz guide does it, with host, port,
database and user fields (here pointing at the test's own database).
"""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from mnemo import DimensionMismatch, InvalidFilter, InvalidInput, Memory, MnemoConfig, NotFound
from mnemo.compat.memorizz.memory_provider.memory_type import MemoryType
from mnemo.compat.memorizz.memory_provider.postgresql import PostgreSQLConfig, PostgreSQLProvider
from mnemo.providers.embedders.base import Embedder
from tests.conftest import repo_root

LTM = MemoryType.LONG_TERM_MEMORY


def config_for(database_url: str, embedder: Embedder, **extra: Any) -> PostgreSQLConfig:
    parts = conninfo_to_dict(database_url)
    return PostgreSQLConfig(
        host=parts["host"], port=int(parts.get("port") or 5432), database=parts["dbname"],
        user=parts.get("user"), password=parts.get("password"), embedder=embedder, **extra,
    )  # fmt: skip


@pytest.fixture
def provider(database_url: str, embedder: Embedder) -> Iterator[PostgreSQLProvider]:
    with PostgreSQLProvider(config_for(database_url, embedder), min_conn=1, max_conn=4) as opened:
        yield opened


def rows(database_url: str) -> list[tuple[Any, ...]]:
    """Every stored record, straight from the table (to prove nothing was corrupted)."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT id, memory_type, name, data, caller_embedding::text FROM records ORDER BY id"
        ).fetchall()


def test_memory_type_has_memorizz_names_and_values() -> None:
    assert MemoryType.PERSONAS == "personas" and MemoryType.TOOLBOX.value == "toolbox"
    assert MemoryType.MEMAGENT.value == "agents"
    assert MemoryType.SHARED_MEMORY.value == "shared_memory"
    for name in ("SHORT_TERM_MEMORY", "LONG_TERM_MEMORY", "CONVERSATION_MEMORY",
                 "WORKFLOW_MEMORY", "KNOWLEDGE_BASE", "ENTITY_MEMORY", "SUMMARIES",
                 "SEMANTIC_CACHE", "SKILLBOX", "TOOL_LOG"):  # fmt: skip
        assert MemoryType[name].value == name.lower()


def test_config_falls_back_to_postgres_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER",
                 "POSTGRES_PASSWORD"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    assert PostgreSQLConfig().database_url() is None  # then MNEMO_DATABASE_URL / embedded
    monkeypatch.setenv("POSTGRES_HOST", "db.example")
    monkeypatch.setenv("POSTGRES_PASSWORD", "s3cret")
    assert conninfo_to_dict(PostgreSQLConfig().database_url() or "") == {
        "host": "db.example", "port": "5432", "dbname": "memorizz", "user": "postgres",
        "password": "s3cret",
    }  # fmt: skip
    explicit = PostgreSQLConfig(host="h", port=6543, database="d", user="u", password="p")
    assert conninfo_to_dict(explicit.database_url() or "") == {
        "host": "h", "port": "6543", "dbname": "d", "user": "u", "password": "p"
    }  # fmt: skip


def test_store_and_retrieve_round_trip_unknown_keys(provider: PostgreSQLProvider) -> None:
    data = {
        "name": "My Memory",
        "content": "This is important information",
        "embedding": [0.1, 0.2, 0.3],
        "metadata": {"source": "chat", "tags": ["a", "b"]},
        "score": 7,
    }
    memory_id = provider.store(data, LTM)
    got = provider.retrieve_by_id(memory_id, LTM)
    assert got is not None
    assert {k: got[k] for k in data} == data  # every key as given, the vector too
    assert got["id"] == got["_id"] == memory_id
    assert got["created_at"] <= got["updated_at"]
    assert provider.retrieve_by_name("My Memory", LTM) == got
    assert provider.retrieve_by_id(memory_id, MemoryType.PERSONAS) is None  # other collection
    assert provider.retrieve_by_name("nobody", LTM) is None
    # the successor name reads the same collection
    assert provider.retrieve_by_id(memory_id, MemoryType.KNOWLEDGE_BASE) == got
    assert provider.retrieve_by_id(memory_id, "long_term_memory") == got


def test_store_updates_by_id_then_by_name_else_inserts(provider: PostgreSQLProvider) -> None:
    first = provider.store({"name": "tool", "description": "adds numbers"}, MemoryType.TOOLBOX)
    again = provider.store({"name": "tool", "version": 2}, MemoryType.TOOLBOX)
    assert again == first
    by_id = provider.store({"id": first, "name": "renamed"}, MemoryType.TOOLBOX)
    assert by_id == first
    other = provider.store({"name": "tool"}, MemoryType.TOOLBOX)  # the old name is free
    assert other != first
    stored = provider.retrieve_by_id(first, MemoryType.TOOLBOX)
    assert stored is not None
    assert (stored["name"], stored["description"], stored["version"]) == (
        "renamed", "adds numbers", 2,
    )  # fmt: skip
    assert [t["id"] for t in provider.list_all(MemoryType.TOOLBOX)] == [first, other]


def test_vector_query_orders_by_cosine_distance_with_filters(provider: PostgreSQLProvider) -> None:
    near = provider.store({"name": "near", "memory_id": "m1", "embedding": [1, 0, 0]}, LTM)
    provider.store({"name": "far", "memory_id": "m1", "embedding": [0, 1, 0]}, LTM)
    provider.store({"name": "other", "memory_id": "m2", "embedding": [1, 0.1, 0]}, LTM)
    provider.store({"name": "no vector", "memory_id": "m1"}, LTM)
    found = provider.retrieve_by_query({"embedding": [1, 0.05, 0], "memory_id": "m1"}, LTM, 5)
    assert isinstance(found, list)
    assert [f["name"] for f in found] == ["near", "far"]
    assert found[0]["distance"] < found[1]["distance"]
    assert found[1]["distance"] == pytest.approx(1 - 0.05 / (1 + 0.05**2) ** 0.5, abs=1e-5)
    one = provider.retrieve_by_query({"embedding": [1, 0, 0]}, LTM)  # limit=1: a dict
    assert isinstance(one, dict) and one["id"] == near
    assert provider.retrieve_by_query({"embedding": [1, 0, 0], "memory_id": "zz"}, LTM, 5) is None
    assert provider.retrieve_by_query({"memory_id": "m2"}, LTM, limit=3)[0]["name"] == "other"  # type: ignore[index]


def test_text_query_uses_hybrid_search(provider: PostgreSQLProvider) -> None:
    provider.store({"name": "Chef", "background": "Cooks Italian pasta and risotto"},
                   MemoryType.PERSONAS)  # fmt: skip
    provider.store({"name": "DBA", "background": "Tunes PostgreSQL indexes and vacuum"},
                   MemoryType.PERSONAS)  # fmt: skip
    best = provider.retrieve_by_query("who can tune my PostgreSQL database?", MemoryType.PERSONAS)
    assert isinstance(best, dict) and best["name"] == "DBA" and best["score"] > 0
    ranked = provider.retrieve_by_query({"query": "risotto recipe"}, MemoryType.PERSONAS, 2)
    assert isinstance(ranked, list) and ranked[0]["name"] == "Chef"
    filtered = provider.retrieve_by_query({"query": "risotto", "name": "DBA"},
                                          MemoryType.PERSONAS, 5)  # fmt: skip
    assert isinstance(filtered, list) and [r["name"] for r in filtered] == ["DBA"]


def test_update_delete_and_delete_all(provider: PostgreSQLProvider) -> None:
    a = provider.store({"name": "a", "content": "first", "keep": True}, LTM)
    b = provider.store({"name": "b", "content": "second"}, LTM)
    provider.store({"name": "a persona"}, MemoryType.PERSONAS)
    assert provider.update_by_id(a, {"content": "changed", "embedding": [1.0, 2.0]}, LTM)
    changed = provider.retrieve_by_id(a, LTM)
    assert changed is not None
    assert (changed["content"], changed["keep"], changed["embedding"]) == ("changed", True,
                                                                           [1.0, 2.0])  # fmt: skip
    assert changed["updated_at"] > changed["created_at"]
    assert not provider.update_by_id("8f6a3c64-9b0e-4a34-b6a3-9f6b8c2d1e00", {"x": 1}, LTM)
    assert provider.delete_by_id(b, LTM) and not provider.delete_by_id(b, LTM)
    assert provider.delete_by_name("a", LTM) and not provider.delete_by_name("a", LTM)
    provider.store({"name": "c"}, LTM)
    assert provider.delete_all(LTM) and not provider.delete_all(LTM)
    assert provider.list_all(LTM) == []
    assert [p["name"] for p in provider.list_all(MemoryType.PERSONAS)] == ["a persona"]


def test_conversation_history_in_timestamp_order(provider: PostgreSQLProvider) -> None:
    conv = MemoryType.CONVERSATION_MEMORY
    provider.store({"role": "assistant", "content": "second", "memory_id": "c1",
                    "timestamp": "2026-01-01T10:00:05Z"}, conv)  # fmt: skip
    provider.store({"role": "user", "content": "first", "memory_id": "c1",
                    "timestamp": "2026-01-01T10:00:00Z"}, conv)  # fmt: skip
    provider.store({"role": "user", "content": "elsewhere", "memory_id": "c2"}, conv)
    history = provider.retrieve_conversation_history_ordered_by_timestamp("c1")
    assert [(u["role"], u["content"]) for u in history] == [
        ("user", "first"), ("assistant", "second")
    ]  # fmt: skip
    assert history[0]["timestamp"] == "2026-01-01T10:00:00Z"  # kept as given
    assert provider.retrieve_conversation_history_ordered_by_timestamp("none") == []


class AgentModel:
    """Stands for Memorizz's pydantic MemAgentModel: what ``store_memagent`` reads."""

    def __init__(self, **fields: Any) -> None:
        self.fields = fields

    def model_dump(self) -> dict[str, Any]:
        return dict(self.fields)


def test_memagent_methods(provider: PostgreSQLProvider) -> None:
    conv = MemoryType.CONVERSATION_MEMORY
    provider.store({"content": "kept", "memory_id": "m-keep"}, conv)
    provider.store({"content": "of the agent", "memory_id": "m-agent"}, conv)
    tools = [{"name": "search", "function": print}]
    agent_id = provider.store_memagent(
        AgentModel(agent_id=None, instruction="Be helpful", memory_ids=["m-agent"], tools=tools)
    )
    other_id = provider.store_memagent({"instruction": "Another agent"})
    agent = provider.retrieve_memagent(agent_id)
    assert agent is not None
    assert agent["agent_id"] == agent_id and agent["instruction"] == "Be helpful"
    assert agent["tools"] == [{"name": "search"}]  # the function object is left out
    assert [a["agent_id"] for a in provider.list_memagents()] == [agent_id, other_id]

    updated = provider.update_memagent({"agent_id": agent_id, "instruction": "Be brief"})
    assert updated["instruction"] == "Be brief" and updated["memory_ids"] == ["m-agent"]
    with pytest.raises(NotFound):
        provider.update_memagent({"agent_id": "0b7c4c1e-3f55-4b8e-9a51-2f0d7c8e9a10"})
    assert provider.store_memagent({"agent_id": agent_id, "instruction": "v3"}) == agent_id
    assert len(provider.list_memagents()) == 2

    assert provider.update_memagent_memory_ids(agent_id, ["m-agent", "m-new"])
    assert provider.retrieve_memagent(agent_id)["memory_ids"] == ["m-agent", "m-new"]  # type: ignore[index]
    assert provider.delete_memagent_memory_ids(other_id)
    assert provider.retrieve_memagent(other_id)["memory_ids"] == []  # type: ignore[index]
    assert not provider.update_memagent_memory_ids("0b7c4c1e-3f55-4b8e-9a51-2f0d7c8e9a10", [])

    assert provider.delete_memagent(other_id) and provider.retrieve_memagent(other_id) is None
    assert provider.delete_memagent(agent_id, cascade=True)
    assert not provider.delete_memagent(agent_id)
    assert [u["content"] for u in provider.list_all(conv)] == ["kept"]


def test_records_belong_to_one_mnemo_user(
    database_url: str, embedder: Embedder, config: MnemoConfig
) -> None:
    with PostgreSQLProvider(config_for(database_url, embedder, user_id="app-1")) as provider:
        provider.store({"name": "p", "content": "persona text", "embedding": [0.5, 0.5]},
                       MemoryType.PERSONAS)  # fmt: skip
        provider.store({"content": "turn", "memory_id": "c"}, MemoryType.CONVERSATION_MEMORY)
    with PostgreSQLProvider(config_for(database_url, embedder, user_id="app-2")) as other:
        assert other.list_all(MemoryType.PERSONAS) == []
    with PostgreSQLProvider(config_for(database_url, embedder, tenant_id="t2",
                                       user_id="app-1")) as tenant:  # fmt: skip
        assert tenant.list_all(MemoryType.PERSONAS) == []
    with Memory(config) as memory:
        assert memory.stats("app-1")["rows"]["records"] == 2
        lines = memory.export_user("app-1")
        exported = [line for line in lines if line.get("table") == "records"]
        assert len(exported) == 2
        assert memory.import_user("app-3", lines)["imported"]["records"] == 2
        assert memory.delete_user("app-1")["records"] == 2
    with PostgreSQLProvider(config_for(database_url, embedder, user_id="app-3")) as moved:
        [persona] = moved.list_all(MemoryType.PERSONAS)
        assert (persona["name"], persona["embedding"]) == ("p", [0.5, 0.5])
        assert moved.retrieve_by_query("persona text", MemoryType.PERSONAS)["name"] == "p"  # type: ignore[index]


# -- bad input: a typed error, and the stored rows unchanged --------------------------------


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda p: p.store({"name": "x"}, "NOT A TYPE"), InvalidInput),
        (lambda p: p.store({"name": "x"}, "records; DROP TABLE records"), InvalidInput),
        (lambda p: p.store(["not", "a", "dict"], LTM), InvalidInput),
        (lambda p: p.store({"id": "not-a-uuid", "name": "x"}, LTM), InvalidInput),
        (lambda p: p.store({"name": "x", "embedding": [1.0, 2.0]}, LTM), DimensionMismatch),
        (lambda p: p.store({"name": "x", "embedding": [float("nan"), 1, 2]}, LTM), InvalidInput),
        (lambda p: p.store({"name": "x", "embedding": "0.1,0.2,0.3"}, LTM), InvalidInput),
        (lambda p: p.store({"name": "x", "embedding": []}, LTM), InvalidInput),
        (lambda p: p.store({"name": "x", "when": object()}, LTM), InvalidInput),
        (lambda p: p.store({"name": "x", "bad": "nul\x00"}, LTM), InvalidInput),
        (lambda p: p.store({"name": {"not": "text"}}, LTM), InvalidInput),
        (lambda p: p.store({1: "int key"}, LTM), InvalidInput),
        (lambda p: p.update_by_id("seed", {"name": "y"}, LTM), InvalidInput),
        (lambda p: p.retrieve_by_id("1 OR 1=1", LTM), InvalidInput),
        (lambda p: p.retrieve_by_query({"embedding": [1.0, 2.0]}, LTM, 5), DimensionMismatch),
        (lambda p: p.retrieve_by_query({"data": "x"}, LTM, 5), InvalidFilter),
        (lambda p: p.retrieve_by_query({"name = name OR true --": "x"}, LTM, 5), InvalidFilter),
        (lambda p: p.retrieve_by_query({"name": ["a"]}, LTM, 5), InvalidFilter),
        (lambda p: p.retrieve_by_query({"name": "x"}, LTM, "5"), InvalidInput),
        (lambda p: p.retrieve_by_query(42, LTM), InvalidInput),
        (lambda p: p.retrieve_by_query("   ", LTM), InvalidInput),
        (lambda p: p.update_memagent_memory_ids("x", "not a list"), InvalidInput),
        (lambda p: p.store_memagent(42), InvalidInput),
    ],
)
def test_bad_input_is_refused_and_corrupts_nothing(
    provider: PostgreSQLProvider, database_url: str, call: Any, error: type[Exception]
) -> None:
    seed = provider.store({"name": "seed", "content": "kept", "embedding": [0.1, 0.2, 0.3]}, LTM)
    before = rows(database_url)
    with pytest.raises(error):
        call(provider)
    assert rows(database_url) == before
    assert provider.retrieve_by_id(seed, LTM)["content"] == "kept"  # type: ignore[index]


def test_a_wrong_dimension_update_keeps_the_record(provider: PostgreSQLProvider) -> None:
    first = provider.store({"name": "a", "embedding": [1.0, 0.0, 0.0]}, LTM)
    provider.store({"name": "b", "embedding": [0.0, 1.0, 0.0]}, LTM)
    with pytest.raises(DimensionMismatch, match="3-dimensional"):
        provider.update_by_id(first, {"embedding": [1.0, 0.0]}, LTM)
    assert provider.retrieve_by_id(first, LTM)["embedding"] == [1.0, 0.0, 0.0]  # type: ignore[index]
    # a collection's only vector may change its dimension; other collections are separate
    solo = provider.store({"name": "solo", "embedding": [1.0, 2.0]}, MemoryType.WORKFLOW_MEMORY)
    assert provider.update_by_id(solo, {"embedding": [1.0]}, MemoryType.WORKFLOW_MEMORY)


def test_seed_example_runs_end_to_end(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MNEMO_DATABASE_URL", database_url)
    for name in ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER"):
        monkeypatch.delenv(name, raising=False)
    path = repo_root() / "examples" / "memorizz_postgresql.py"
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert "Stored memory with ID: " in out
    assert "Retrieved: 'My Memory': 'This is important information'" in out
    similar = out.split("Vector similarity search")[1].splitlines()[1:3]
    assert similar[0].startswith("  My Memory: distance 0.00")
    assert similar[1].startswith("  Another Memory: distance 0.7")
    assert "  user: What is pgvector?\n  assistant: A vector type for PostgreSQL." in out
    assert "best persona for the question: Technical Expert" in out
    assert "remembers ['conversation-1', 'conversation-2']" in out
    assert "after deleting the agent with cascade: 0 conversation units left" in out
    assert out.rstrip().endswith("All examples completed successfully!")
    with psycopg.connect(database_url) as conn:
        count = conn.execute("SELECT count(*) FROM records WHERE user_id = 'example-memorizz'")
        assert count.fetchone() == (3,)  # persona and two long-term memories


def test_concurrent_stores_of_one_name_keep_one_record(provider: PostgreSQLProvider) -> None:
    """Threads storing the same name at once update one record, never insert twins."""
    with ThreadPoolExecutor(8) as pool:
        ids = list(
            pool.map(
                lambda i: provider.store({"name": "shared", "writer": i}, MemoryType.TOOLBOX),
                range(16),
            )
        )
    [stored] = provider.list_all(MemoryType.TOOLBOX)
    assert set(ids) == {stored["id"]} and stored["writer"] in range(16)
    given = "5d1e7c3a-0f4b-4c2e-9a8d-6b7f1e2d3c4b"
    with ThreadPoolExecutor(4) as pool:
        same = set(pool.map(lambda i: provider.store({"id": given, "n": i}, LTM), range(8)))
    assert same == {given} and len(provider.list_all(LTM)) == 1
