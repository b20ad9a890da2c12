"""``MnemoStore`` against LangGraph's ``BaseStore`` interface, a compiled graph and LangMem."""

from __future__ import annotations

import pytest
from langgraph.graph import START, StateGraph
from langgraph.store.base import BaseStore, GetOp, InvalidNamespaceError, PutOp, SearchOp
from typing_extensions import TypedDict

from mnemo import AsyncMemory, ConfigurationError, Memory, MnemoConfig
from mnemo.integrations.langgraph import MnemoStore


def test_put_get_update_delete(sync_memory: Memory) -> None:
    store = MnemoStore(sync_memory, user_id="alice")
    store.put(("prefs",), "coffee", {"text": "dark roast", "strength": 5})
    item = store.get(("prefs",), "coffee")
    assert item is not None
    assert (item.namespace, item.key, item.value) == (
        ("prefs",), "coffee", {"text": "dark roast", "strength": 5},
    )  # fmt: skip
    store.put(("prefs",), "coffee", {"text": "flat white", "strength": 3})
    updated = store.get(("prefs",), "coffee")
    assert updated is not None and updated.value["text"] == "flat white"
    assert updated.created_at == item.created_at and updated.updated_at > item.updated_at
    assert store.get(("prefs", "other"), "coffee") is None
    assert store.get(("other",), "coffee") is None
    [memory] = sync_memory.list(user_id="alice")  # one memory, changed in place
    assert [e.event for e in sync_memory.history(memory.id)][:1] == ["add"]
    store.delete(("prefs",), "coffee")
    assert store.get(("prefs",), "coffee") is None
    store.delete(("prefs",), "never-there")  # deleting nothing is fine


def test_search_by_meaning_filter_and_prefix(sync_memory: Memory) -> None:
    store = MnemoStore(sync_memory, user_id="alice", index={"fields": ["text"]})
    store.put(("notes", "food"), "1", {"text": "Alice prefers dark roast coffee", "n": 1})
    store.put(("notes", "food"), "2", {"text": "Alice is allergic to peanuts", "n": 2})
    store.put(("notes", "travel"), "3", {"text": "Alice flies to Lisbon in May", "n": 3})
    store.put(("notes", "travel"), "4", {"text": "coffee beans from Lisbon"}, index=False)
    best = store.search(("notes",), query="what coffee does she drink?", limit=2)
    assert best[0].key == "1" and best[0].score is not None and best[0].score > 0
    assert "4" not in [i.key for i in store.search(("notes",), query="coffee")]  # not indexed
    assert [i.key for i in store.search(("notes", "travel"), query="coffee")] == ["3"]
    assert {i.key for i in store.search(("notes",), filter={"n": {"$gte": 2}})} == {"2", "3"}
    assert [i.key for i in store.search(("notes",), filter={"n": 1})] == ["1"]
    listed = store.search(("notes",), limit=2, offset=1)
    assert len(listed) == 2 and all(i.score is None for i in listed)
    assert [i.key for i in store.search(("notes", "*"), query="peanuts", limit=1)] == ["2"]
    # The memory's text is the indexed field, so mnemo's own search finds it too.
    assert sync_memory.search("peanut allergy", user_id="alice")[0].content == (
        "Alice is allergic to peanuts"
    )


def test_list_namespaces(sync_memory: Memory) -> None:
    store = MnemoStore(sync_memory, user_id="alice")
    for ns in [("a", "b", "c"), ("a", "b", "d"), ("a", "x"), ("z", "b")]:
        store.put(ns, "k", {"v": 1})
    assert store.list_namespaces() == [("a", "b", "c"), ("a", "b", "d"), ("a", "x"), ("z", "b")]
    assert store.list_namespaces(prefix=("a", "b")) == [("a", "b", "c"), ("a", "b", "d")]
    assert store.list_namespaces(suffix=("b",)) == [("z", "b")]
    assert store.list_namespaces(prefix=("*", "b")) == [
        ("a", "b", "c"),
        ("a", "b", "d"),
        ("z", "b"),
    ]
    assert store.list_namespaces(max_depth=1) == [("a",), ("z",)]
    assert store.list_namespaces(limit=1, offset=1) == [("a", "b", "d")]
    sync_memory.add("a plain mnemo memory", user_id="alice")  # not an item: never listed
    assert len(store.list_namespaces()) == 4


def test_users_from_namespace_and_tenants_kept_apart(sync_memory: Memory) -> None:
    acme = MnemoStore(sync_memory, user_label=1, tenant_id="acme")
    globex = MnemoStore(sync_memory, user_label=1, tenant_id="globex")
    acme.put(("memories", "alice"), "k", {"text": "alice at acme"})
    acme.put(("memories", "bob"), "k", {"text": "bob at acme"})
    assert globex.get(("memories", "alice"), "k") is None
    assert globex.search(("memories", "alice"), query="alice") == []
    assert [i.value["text"] for i in acme.search(("memories", "alice"), query="who?")] == [
        "alice at acme"
    ]
    assert acme.list_namespaces(prefix=("memories", "bob")) == [("memories", "bob")]
    with pytest.raises(InvalidNamespaceError, match="no user at position 1"):
        acme.search(("memories",), query="anyone")
    with pytest.raises(InvalidNamespaceError, match="no user at position 1"):
        acme.list_namespaces()
    with pytest.raises(InvalidNamespaceError, match="no user"):
        acme.batch([PutOp(("memories", "carol"), "k", {"v": 1}), GetOp(("memories",), "k")])
    assert acme.get(("memories", "carol"), "k") is None  # the batch was refused whole


def test_bad_input_is_refused_before_anything_is_stored(sync_memory: Memory) -> None:
    store = MnemoStore(sync_memory, user_id="alice")
    with pytest.raises(InvalidNamespaceError):
        store.put(("a.b",), "k", {"v": 1})
    with pytest.raises(InvalidNamespaceError):
        store.batch([PutOp(("ok",), "k", {"v": 1}), GetOp(("",), "k")])
    with pytest.raises(NotImplementedError, match="TTL"):
        store.put(("ok",), "k", {"v": 1}, ttl=5)
    with pytest.raises(ValueError, match="JSON-serialisable"):
        store.put(("ok",), "k", {"v": object()})
    with pytest.raises(ValueError, match="unsupported operators"):
        store.batch([PutOp(("ok",), "k", {"v": 1}), SearchOp(("ok",), {"v": {"$regex": "x"}})])
    assert sync_memory.list(user_id="alice") == []
    with pytest.raises(ConfigurationError, match="either user_id or user_label"):
        MnemoStore(sync_memory)
    with pytest.raises(ConfigurationError, match="only 'fields'"):
        MnemoStore(sync_memory, user_id="a", index={"dims": 3, "embed": "x"})


async def test_async_batch_on_an_async_memory(config: MnemoConfig) -> None:
    async with AsyncMemory(config) as engine:
        store = MnemoStore(engine, user_id="alice")
        results = await store.abatch(
            [
                PutOp(("n",), "1", {"text": "first"}),
                GetOp(("n",), "1"),
                PutOp(("n",), "1", {"text": "second"}),
                SearchOp(("n",), query="second"),
            ]
        )
        assert results[0] is None and results[1].value == {"text": "first"}  # type: ignore[union-attr]
        assert [i.value for i in results[3]] == [{"text": "second"}]  # type: ignore[union-attr]
        assert (await store.alist_namespaces()) == [("n",)]
        await store.adelete(("n",), "1")
        assert await store.aget(("n",), "1") is None


class State(TypedDict):
    user: str
    said: str
    recalled: list[str]


def test_a_compiled_graph_keeps_its_memories_in_mnemo(sync_memory: Memory) -> None:
    def remember(state: State, *, store: BaseStore) -> dict[str, object]:
        store.put(("memories", state["user"]), state["said"][:20], {"text": state["said"]})
        found = store.search(("memories", state["user"]), query="what does she drink?")
        return {"recalled": [i.value["text"] for i in found]}

    builder = StateGraph(State)
    builder.add_node("remember", remember)
    builder.add_edge(START, "remember")
    graph = builder.compile(store=MnemoStore(sync_memory, user_label=1, index={"fields": ["text"]}))
    out = graph.invoke({"user": "alice", "said": "Alice drinks oat milk lattes", "recalled": []})
    assert out["recalled"] == ["Alice drinks oat milk lattes"]
    assert [m.content for m in sync_memory.list(user_id="alice")] == [
        "Alice drinks oat milk lattes"
    ]
