"""Reference documents: manuals, product docs, API specs, loaded on command, searchable.

``load`` takes a path, or a name with text (or bytes, for PDF); the document is
chunked along its headings (``mnemo.core.chunking``), embedded, and stored so
that re-loading the same name replaces its chunks atomically (concurrent
readers see the old chunks or the new, never a mix), reusing the vectors of
chunks whose text did not change. A document belongs to one user, or with
``shared=True`` to every user of the tenant; searches include shared documents
unless asked not to.
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import hashlib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from mnemo.config import DocumentConfig, Limits, SearchConfig
from mnemo.core.chunking import ChunkedDocument
from mnemo.core.document_records import ChunkHit, ChunkRecord, DocumentRecord, LoadResult
from mnemo.core.filters import parse_filters
from mnemo.core.ids import new_id, parse_id
from mnemo.core.observe import Observers
from mnemo.core.records import Scope
from mnemo.core.scoring import Scored
from mnemo.core.validation import require_content, require_limit, require_metadata, require_scope_id
from mnemo.errors import InvalidInput, NotFound
from mnemo.kinds.document_context import DocumentContext, render_chunks
from mnemo.kinds.document_input import (
    MAX_NAME_CHARS,
    chunked,
    described,
    read_source,
    require_format,
    unchanged,
)
from mnemo.kinds.document_input import document_ids as document_ids_of
from mnemo.retrieval.embedding import EmbeddingService
from mnemo.retrieval.search import HybridSearch
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.documents import (
    CHUNK_TABLE,
    SHARED_USER,
    ChunkSearchStore,
    ChunkWrite,
    DocumentStore,
    DocumentWrite,
    chunk_fragment,
    snapshot,
)
from mnemo.store.postgres.filters import Fragment, compile_filter
from mnemo.store.postgres.shared_index import SharedChunkIndex

MAX_LIST = 1_000


def _chunk_hit(record: ChunkRecord, scored: Scored) -> ChunkHit:
    fields = {name: getattr(record, name) for name in ChunkRecord.__dataclass_fields__}
    return ChunkHit(**fields, score=scored.score, scores=scored.scores)


class DocumentService:
    """A tenant's reference documents. Input is checked before anything is written."""

    def __init__(
        self,
        store: DocumentStore,
        db: Database,
        shared_index: SharedChunkIndex,
        embeddings: EmbeddingService,
        *,
        tenant_id: str,
        config: DocumentConfig,
        search: SearchConfig,
        limits: Limits,
        observers: Observers,
    ) -> None:
        self._store = store
        self._db = db
        self._shared_index = shared_index
        self._embeddings = embeddings
        self._tenant_id = tenant_id
        self.config = config
        self._search_config = search
        self._limits = limits
        self._observers = observers

    async def load(
        self,
        source: str | Path,
        content: str | bytes | None = None,
        *,
        user_id: str | None = None,
        shared: bool = False,
        agent_id: str | None = None,
        session_id: str | None = None,
        filename: str | None = None,
        format: str | None = None,
        metadata: dict[str, Any] | None = None,
        title: str | None = None,
    ) -> LoadResult:
        """Load (or re-load) a document and make it searchable.

        ``source`` is a file path when ``content`` is ``None``; otherwise it names the
        document (a file name, a URI) and ``content`` is its text, or its bytes for a
        PDF. The format comes from ``format``, else the file name's extension, else the
        content. A document of the same name (the absolute path, for files) is replaced.
        Raises ``InvalidInput`` for unreadable or empty documents, leaving the stored
        one as it was.
        """
        owner = self._owner(user_id, shared, session_id)
        agent = require_scope_id(agent_id, "agent_id", required=False)
        session = require_scope_id(session_id, "session_id", required=False)
        fmt = require_format(format)
        meta = require_metadata(metadata, max_bytes=self._limits.max_metadata_bytes)
        if title is not None:
            title = require_content(title, max_chars=MAX_NAME_CHARS, name="title")
        doc = await read_source(source, content, filename, max_bytes=self.config.max_bytes)
        data = doc.data if isinstance(doc.data, bytes) else doc.data.encode()
        existing = await self._store.by_name(self._tenant_id, owner, doc.name)
        write = DocumentWrite(
            str(new_id()),
            doc.name,
            doc.uri,
            fmt or "text",
            title,
            hashlib.sha256(data).digest(),
            0,
            meta,
            agent,
            session,
        )
        if existing is not None and unchanged(existing, write, fmt):
            return LoadResult(
                document=existing, changed=False, chunks=existing.chunk_count, embedded=0, reused=0
            )
        parts = await asyncio.to_thread(chunked, doc, fmt, self.config)
        write = described(write, parts, title)
        chunks, embedded, reused = await self._chunk_writes(parts, existing, owner)
        stored = await self._store.replace(
            self._tenant_id, owner, write, chunks, model=self._embeddings.model_id
        )
        if shared:
            await self._shared_index.ensure(self._tenant_id, self._embeddings.dimension)
        return LoadResult(
            document=stored, changed=True, chunks=len(chunks), embedded=embedded, reused=reused
        )

    async def get(self, document_id: str, *, user_id: str) -> DocumentRecord:
        """A document of the user or of the tenant's shared corpus; else ``NotFound``."""
        scope = self._scope(user_id)
        checked = str(parse_id(document_id, what="document id"))
        found = await self._store.by_id(scope, checked)
        if found is None:
            raise NotFound(f"no document with id {checked} for user {scope.user_id!r:.80}")
        return found

    async def list(
        self,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        include_shared: bool = True,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[DocumentRecord]:
        """The documents the user can search, most recently loaded first."""
        scope = self._scope(user_id, agent_id, session_id)
        limit = require_limit(limit, maximum=MAX_LIST)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidInput(f"offset must be a non-negative integer, got {offset!r:.40}")
        return await self._store.list_page(
            scope, include_shared=include_shared, limit=limit, offset=offset
        )

    async def chunks(self, document_id: str, *, user_id: str) -> builtins.list[dict[str, Any]]:
        """A document's chunks in order: ``id``, ``chunk_index``, ``heading_path``,
        ``content``, ``document_version``."""
        document = await self.get(document_id, user_id=user_id)
        owner = SHARED_USER if document.shared else document.user_id or ""
        return await self._store.chunks_of(self._tenant_id, owner, document.id)

    async def delete(
        self, document_id: str, *, user_id: str | None = None, shared: bool = False
    ) -> None:
        """Delete a document of the user (or a shared one) with its chunks; ``NotFound``
        when there is none with that id."""
        owner = self._owner(user_id, shared, None)
        checked = str(parse_id(document_id, what="document id"))
        if not await self._store.delete(self._tenant_id, owner, checked):
            raise NotFound(f"no document with id {checked} here")

    async def search(
        self,
        query: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        limit: int = 10,
        include_shared: bool = True,
        document_ids: Sequence[str] | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> builtins.list[ChunkHit]:
        """The chunks most relevant to ``query``, best first, with score breakdowns.

        ``filters`` apply to the documents' metadata (the memory filter syntax);
        ``document_ids`` narrows to some documents.
        """
        scope = self._scope(user_id, agent_id, session_id)
        query = require_content(query, max_chars=self._limits.max_content_chars, name="query")
        limit = require_limit(limit, maximum=self._search_config.max_limit)
        documents = document_ids_of(document_ids)
        parsed = parse_filters(filters)
        extra = None if parsed is None else compile_filter(parsed, names=_filter_names())
        await self._embeddings.embed_query(scope, query)  # cached for the search below
        async with snapshot(self._db, scope.tenant_id) as pinned:
            shared_ids = (
                await self._shared_candidates(pinned, scope, query, limit)
                if include_shared
                else None
            )
            fragment = functools.partial(
                chunk_fragment, scope, document_ids=documents, shared_ids=shared_ids, extra=extra
            )
            # On Citus the shared corpus lives on a shard of its own: searched apart, so
            # each statement runs on one shard.
            apart = include_shared and await self._db.distributed()
            where = fragment(include_shared=include_shared and not apart)
            shared = fragment(include_shared=True, only_shared=True) if apart else None
            searcher = self._searcher(pinned, include_shared, shared)
            return await searcher.search(scope, query, where, limit=limit)

    async def get_context(
        self,
        query: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        limit: int = 5,
        max_tokens: int | None = None,
        include_shared: bool = True,
    ) -> DocumentContext:
        """The reference passages relevant to ``query``, rendered for a prompt."""
        if max_tokens is not None:
            max_tokens = require_limit(max_tokens, "max_tokens", maximum=1_000_000)
        hits = await self.search(
            query,
            user_id=user_id,
            agent_id=agent_id,
            session_id=session_id,
            limit=limit,
            include_shared=include_shared,
        )
        return render_chunks(hits, max_tokens=max_tokens)

    async def stats(self, *, user_id: str | None = None, shared: bool = False) -> dict[str, Any]:
        """Documents, chunks and characters stored for the user (or the shared corpus)."""
        owner = self._owner(user_id, shared, None)
        raw = await self._store.stats(self._tenant_id, owner)
        return {
            "documents": int(raw["documents"]),
            "chunks": int(raw["chunks"]),
            "characters": int(raw["characters"]),
            "last_loaded_at": raw["last_loaded_at"],
            "shared": shared,
        }

    async def build_shared_index(self) -> None:
        """Build the HNSW index for shared corpora now (run as the schema owner)."""
        await self._shared_index.build(self._embeddings.dimension)

    # -- helpers ---------------------------------------------------------------------------

    async def _chunk_writes(
        self, chunked: ChunkedDocument, existing: DocumentRecord | None, owner: str
    ) -> tuple[builtins.list[ChunkWrite], int, int]:
        """Chunks with vectors (reused by text hash where a previous load stored them),
        and how many were embedded now and reused."""
        texts = [c.text_with_heading() for c in chunked.chunks]
        hashes = [hashlib.sha256(t.encode()).digest() for t in texts]
        stored: dict[bytes, Any] = {}
        if existing is not None:
            stored = await self._store.reusable_embeddings(
                self._tenant_id, owner, existing.id, self._embeddings.model_id, hashes
            )
        missing = list(
            dict.fromkeys(t for t, h in zip(texts, hashes, strict=True) if h not in stored)
        )
        if missing:
            vectors = await self._embeddings.embed_passages(missing)
            fresh = dict(zip(missing, vectors, strict=True))
            stored.update({hashlib.sha256(t.encode()).digest(): v for t, v in fresh.items()})
        writes = [
            ChunkWrite(
                str(new_id()),
                c.index,
                c.heading_path,
                c.char_start,
                c.char_end,
                c.tokens,
                text,
                stored[h],
            )
            for c, text, h in zip(chunked.chunks, texts, hashes, strict=True)
        ]
        return writes, len(missing), len(texts) - len(missing)

    async def _shared_candidates(
        self, db: Database, scope: Scope, query: str, limit: int
    ) -> builtins.list[str] | None:
        """Shared candidates through the HNSW index, or ``None`` (scan exactly) without one."""
        dimension = self._embeddings.dimension
        if not await self._shared_index.ready(dimension):
            return None
        vector = await self._embeddings.embed_query(scope, query)
        return await self._shared_index.candidates(
            scope.tenant_id,
            query_vector=vector,
            query_text=query,
            model=self._embeddings.model_id,
            dimension=dimension,
            depth=max(limit, self._search_config.candidates_per_leg),
            db=db,
        )

    def _searcher(
        self, db: Database, include_shared: bool, shared_apart: Fragment | None
    ) -> HybridSearch[ChunkRecord, ChunkHit]:
        store = ChunkSearchStore(
            db,
            ts_config=self._search_config.text_search_config,
            include_shared=include_shared,
            shared_apart=shared_apart,
        )
        return HybridSearch(
            CHUNK_TABLE,
            _chunk_hit,
            store,
            self._embeddings,
            self._search_config,
            self._observers,
            metric="documents.search",
        )

    def _owner(self, user_id: object, shared: object, session_id: object) -> str:
        if not isinstance(shared, bool):
            raise InvalidInput("shared must be true or false")
        if not shared:
            return require_scope_id(user_id, "user_id") or ""
        if user_id is not None or session_id is not None:
            raise InvalidInput(
                "a shared document belongs to the whole tenant: give no user_id or session_id"
            )
        return SHARED_USER

    def _scope(self, user_id: object, agent_id: object = None, session_id: object = None) -> Scope:
        return Scope(
            tenant_id=self._tenant_id,
            user_id=require_scope_id(user_id, "user_id") or "",
            agent_id=require_scope_id(agent_id, "agent_id", required=False),
            session_id=require_scope_id(session_id, "session_id", required=False),
        )


def _filter_names() -> Iterator[str]:
    return (f"df{i}" for i in itertools.count())
