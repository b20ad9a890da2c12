"""Reference documents against a real PostgreSQL: every format, atomic reloads, scoping."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import psycopg
import pytest

from mnemo import AsyncMemory, InvalidInput, MnemoConfig, NotFound
from mnemo.config import DocumentConfig

pytestmark = pytest.mark.asyncio

DOCS = Path(__file__).parents[2] / "data" / "docs"


@pytest.mark.parametrize(
    ("file", "fmt", "query", "expected"),
    [
        ("notes.txt", "text", "when does Project Falcon ship?", "ships in March"),
        ("guide.md", "markdown", "how do I install it on Linux?", "Install the wheel with pip"),
        ("page.html", "html", "use an external database server", "MNEMO_DATABASE_URL"),
        ("settings.json", "json", "how fast does the voice speak?", '"speed": 1.1'),
        ("settings.yaml", "yaml", "what personality?", "Warm, concise"),
        ("petstore.yaml", "openapi", "create a new pet", "POST /pets"),
        ("manual.pdf", "pdf", "the light blinks red", "charge the battery"),
    ],
)
async def test_each_format_loads_and_is_searchable(
    memory: AsyncMemory, file: str, fmt: str, query: str, expected: str
) -> None:
    result = await memory.documents.load(DOCS / file, user_id="ana")
    assert result.changed and result.document.format == fmt
    assert result.chunks == result.document.chunk_count == result.embedded > 0
    assert result.document.uri == (DOCS / file).resolve().as_uri()
    hits = await memory.documents.search(query, user_id="ana", limit=3)
    assert expected in hits[0].content
    assert hits[0].document_name == str((DOCS / file).resolve())
    assert {"relevance", "vector", "lexical"} <= set(hits[0].scores)


async def test_text_content_headings_and_context(memory: AsyncMemory) -> None:
    text = "# Billing\n\nInvoices go out on the 1st.\n\n## Refunds\n\nRefunds take 5 days."
    result = await memory.documents.load("billing.md", text, user_id="ana", title="Billing FAQ")
    assert result.document.title == "Billing FAQ" and result.document.format == "markdown"
    hits = await memory.documents.search("how long does a refund take", user_id="ana")
    assert hits[0].heading_path == ["Billing", "Refunds"]
    assert hits[0].content.startswith("Billing > Refunds\n")
    context = await memory.documents.get_context("refund delay", user_id="ana", limit=1)
    assert context.text.startswith("Reference documents:\n[Billing FAQ]\nBilling > Refunds")
    assert (
        context.tokens > 0 and context.as_dict()["documents"][0]["heading"] == "Billing > Refunds"
    )
    tight = await memory.documents.get_context("refund delay", user_id="ana", max_tokens=5)
    assert tight.chunks == [] and tight.truncated


def _protocol(word: str) -> str:
    return "\n\n".join(
        f"## Step {i}\n\nThe falcon protocol step {i} opens the {word} valve number {i}."
        for i in range(6)
    )


async def test_reload_replaces_chunks_atomically_for_concurrent_readers(
    memory: AsyncMemory, database_url: str
) -> None:
    first = await memory.documents.load("protocol.md", _protocol("alpha"), user_id="ana")
    document_id = first.document.id
    stop = asyncio.Event()
    searched: list[set[int]] = []
    scanned: list[tuple[int, int]] = []

    async def search_reader() -> None:
        while not stop.is_set():
            hits = await memory.documents.search("falcon valve", user_id="ana", limit=20)
            assert len(hits) == 6
            searched.append({h.document_version for h in hits})

    def scan_reader() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            while not stop.is_set():
                row = conn.execute(
                    "SELECT count(DISTINCT document_version), count(*) FROM chunks"
                    " WHERE document_id = %s",
                    (document_id,),
                ).fetchone()
                assert row is not None
                scanned.append((row[0], row[1]))

    readers = [
        asyncio.create_task(search_reader()),
        asyncio.create_task(asyncio.to_thread(scan_reader)),
    ]
    for word in ("beta", "alpha", "gamma"):
        await memory.documents.load("protocol.md", _protocol(word), user_id="ana")
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*readers)
    assert all(len(versions) == 1 for versions in searched)
    assert all(row == (1, 6) for row in scanned)
    assert len({v for versions in searched for v in versions}) >= 2  # readers saw reloads
    final = await memory.documents.get(document_id, user_id="ana")
    assert final.version == 4
    chunks = await memory.documents.chunks(document_id, user_id="ana")
    assert all("gamma" in c["content"] for c in chunks)


async def test_reload_reuses_vectors_of_unchanged_chunks(memory: AsyncMemory) -> None:
    await memory.documents.load("protocol.md", _protocol("alpha"), user_id="ana")
    edited = _protocol("alpha").replace("step 3 opens the alpha", "step 3 opens the omega")
    result = await memory.documents.load("protocol.md", edited, user_id="ana")
    assert (result.changed, result.chunks, result.embedded, result.reused) == (True, 6, 1, 5)
    assert result.document.version == 2
    again = await memory.documents.load("protocol.md", edited, user_id="ana")
    assert (again.changed, again.embedded, again.document.version) == (False, 0, 2)
    hits = await memory.documents.search("omega valve", user_id="ana", limit=1)
    assert "omega" in hits[0].content


async def _state(memory: AsyncMemory, user: str) -> list[Any]:
    documents = await memory.documents.list(user_id=user)
    chunks = [await memory.documents.chunks(d.id, user_id=user) for d in documents]
    return [documents, chunks]


@pytest.mark.parametrize(
    ("content", "fmt", "match"),
    [
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", None, "PDF"),
        ("{not: valid json", "json", "JSON"),
        ("key: [unclosed", "yaml", "YAML"),
        ("   \n\t ", None, "empty"),
        ("plain words", "docx", "format"),
    ],
)
async def test_bad_documents_raise_and_change_nothing(
    memory: AsyncMemory, content: str | bytes, fmt: str | None, match: str
) -> None:
    await memory.documents.load("settings.json", '{"voice": "Ava"}', user_id="ana")
    before = await _state(memory, "ana")
    with pytest.raises(InvalidInput, match=match):
        await memory.documents.load("settings.json", content, user_id="ana", format=fmt)
    assert await _state(memory, "ana") == before


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"source": "/no/such/file.md"}, "no such file"),
        ({"source": "x.md", "content": "hi", "user_id": None}, "user_id"),
        ({"source": "x.md", "content": "hi", "user_id": "ana", "shared": True}, "shared"),
        ({"source": "x.md", "content": "hi", "user_id": "ana", "metadata": [1]}, "metadata"),
        ({"source": "x.md", "content": 42, "user_id": "ana"}, "text or bytes"),
        ({"source": "", "content": "hi", "user_id": "ana"}, "source"),
    ],
)
async def test_bad_load_arguments_raise_and_change_nothing(
    memory: AsyncMemory, kwargs: dict[str, Any], match: str
) -> None:
    kwargs.setdefault("user_id", "ana")
    with pytest.raises(InvalidInput, match=match):
        await memory.documents.load(**kwargs)
    assert await memory.documents.list(user_id="ana") == []


async def test_size_and_chunk_limits(config: MnemoConfig) -> None:
    small = dataclasses.replace(config, documents=DocumentConfig(max_bytes=100, max_chunks=2))
    async with AsyncMemory(small) as memory:
        with pytest.raises(InvalidInput, match="limit"):
            await memory.documents.load("big.txt", "word " * 30, user_id="ana")
        with pytest.raises(InvalidInput, match="chunks"):
            await memory.documents.load("many.md", "# a\nx\n# b\ny\n# c\nz", user_id="ana")
        assert await memory.documents.list(user_id="ana") == []


async def test_documents_are_scoped_by_user_agent_and_session(memory: AsyncMemory) -> None:
    docs = memory.documents
    await docs.load("ana.txt", "Ana's locker code is 4471.", user_id="ana")
    await docs.load(
        "bot.txt", "The support bot escalates refunds to Maria.", user_id="ana", agent_id="support"
    )
    await docs.load(
        "chat.txt", "The attached invoice totals 120 euros.", user_id="ana", session_id="s1"
    )
    await docs.load("bob.txt", "Bob's locker code is 9902.", user_id="bob")
    assert {h.document_name for h in await docs.search("locker code", user_id="bob")} == {"bob.txt"}
    everything = {h.document_name for h in await docs.search("code refunds invoice", user_id="ana")}
    assert everything == {"ana.txt", "bot.txt", "chat.txt"}
    sales = await docs.search("code refunds invoice", user_id="ana", agent_id="sales")
    assert {h.document_name for h in sales} == {"ana.txt", "chat.txt"}
    other_session = await docs.search("code refunds invoice", user_id="ana", session_id="s2")
    assert {h.document_name for h in other_session} == {"ana.txt", "bot.txt"}
    listed = await docs.list(user_id="ana", agent_id="support", session_id="s1")
    assert {d.name for d in listed} == {"ana.txt", "bot.txt", "chat.txt"}
    bob_doc = (await docs.list(user_id="bob"))[0]
    with pytest.raises(NotFound):
        await docs.get(bob_doc.id, user_id="ana")
    with pytest.raises(NotFound):
        await docs.delete(bob_doc.id, user_id="ana")


async def test_shared_documents_serve_every_user_of_the_tenant_only(memory: AsyncMemory) -> None:
    result = await memory.documents.load(
        "handbook.md", "# Leave\n\nStaff get 25 days of leave.", shared=True
    )
    assert result.document.shared and result.document.user_id is None
    for user in ("ana", "bob"):
        hits = await memory.documents.search("how many days of leave", user_id=user)
        assert hits[0].shared and "25 days" in hits[0].content
    own_only = await memory.documents.search("days of leave", user_id="ana", include_shared=False)
    assert own_only == []
    other_tenant = memory.for_tenant("acme")
    assert await other_tenant.documents.search("days of leave", user_id="ana") == []
    assert (await memory.documents.stats(shared=True))["chunks"] == 1
    await memory.documents.delete(result.document.id, shared=True)
    assert await memory.documents.search("days of leave", user_id="ana") == []


async def test_delete_user_erases_documents_and_chunks(memory: AsyncMemory) -> None:
    await memory.documents.load("a.txt", "Ana keeps bees.", user_id="ana")
    await memory.documents.load("s.txt", "Everyone may park in lot B.", shared=True)
    counts = await memory.delete_user("ana")
    assert counts["documents"] == 1
    assert await memory.documents.list(user_id="ana", include_shared=False) == []
    assert len(await memory.documents.list(user_id="ana")) == 1  # the shared one stays


async def test_filters_and_document_ids_narrow_search(memory: AsyncMemory) -> None:
    a = await memory.documents.load(
        "a.txt", "Rollout plan for the falcon launch.", user_id="ana", metadata={"team": "ops"}
    )
    await memory.documents.load(
        "b.txt", "Marketing plan for the falcon launch.", user_id="ana", metadata={"team": "growth"}
    )
    ops = await memory.documents.search("falcon plan", user_id="ana", filters={"team": "ops"})
    assert [h.document_name for h in ops] == ["a.txt"]
    only_a = await memory.documents.search("falcon", user_id="ana", document_ids=[a.document.id])
    assert {h.document_id for h in only_a} == {a.document.id}
    with pytest.raises(InvalidInput):
        await memory.documents.search("falcon", user_id="ana", document_ids=["nope"])


async def test_search_all_merges_memories_and_documents(memory: AsyncMemory) -> None:
    await memory.add("Ana's favourite tea is oolong", user_id="ana")
    await memory.add("Ana walks her dog at 7am", user_id="ana")
    await memory.documents.load(
        "tea.md", "# Brewing oolong\n\nSteep oolong tea at 90°C.", user_id="ana"
    )
    hits = await memory.search_all("oolong tea", user_id="ana", limit=3)
    assert {h.source for h in hits[:2]} == {"memories", "documents"}
    assert all("oolong" in h.content for h in hits[:2])
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert {"source_score", "similarity_rescaled", "merged"} <= set(hits[0].scores)
    only_docs = await memory.search_all("oolong", user_id="ana", sources=["documents"])
    assert {h.source for h in only_docs} == {"documents"}
    with pytest.raises(InvalidInput, match="sources"):
        await memory.search_all("oolong", user_id="ana", sources=["web"])


async def test_large_shared_corpora_use_an_hnsw_index(config: MnemoConfig) -> None:
    tuned = dataclasses.replace(config, documents=DocumentConfig(hnsw_min_shared_chunks=3))
    async with AsyncMemory(tuned) as memory:
        text = "\n\n".join(
            f"# Topic {i}\n\nFact {i}: the {w} is kept in room {i}."
            for i, w in enumerate(["kettle", "ladder", "printer", "stapler"])
        )
        await memory.documents.load("rooms.md", text, shared=True)
        dimension = memory.embedder.dimension
        hits = await memory.documents.search("where is the printer?", user_id="ana", limit=2)
        assert "printer" in hits[0].content and hits[0].shared
        # pgvector < 0.8 has no iterative scans: the index is searched with a wider beam.
        memory._shared_index._version = (0, 7, 4)
        older = await memory.documents.search("where is the printer?", user_id="ana", limit=2)
        assert [h.id for h in older] == [h.id for h in hits]
        probe = "[" + ",".join(["0.1"] * dimension) + "]"
        async with memory.db.transaction() as conn:
            indexes = await conn.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'chunks'"
            )
            assert f"chunks_shared_hnsw_{dimension}" in {r[0] for r in await indexes.fetchall()}
            await conn.execute("SET LOCAL enable_seqscan = off")
            plan = await conn.execute(
                "EXPLAIN SELECT m.id FROM chunks m WHERE m.user_id = '' AND"
                f" vector_dims(m.embedding) = {dimension} AND m.tenant_id = 'default'"
                f" ORDER BY m.embedding::vector({dimension}) <=> '{probe}'::vector({dimension})"
                " LIMIT 5"
            )
            text_plan = "\n".join(row[0] for row in await plan.fetchall())
        assert f"chunks_shared_hnsw_{dimension}" in text_plan
