"""Conversation messages: validate turns, embed each with the turn before, store them
verbatim; list them page by page, search them, count them.

Every call is scoped by a ``Scope``: the user always, the agent and the session
when given. Adding needs a session; a scope without one adds to
``DEFAULT_SESSION``. Writes go to PostgreSQL first, then invalidate the
session's cache namespace (recent windows, summary).
"""

from __future__ import annotations

import base64
import binascii
import builtins
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from mnemo.config import Limits
from mnemo.core.filters import parse_filters
from mnemo.core.formats import batch_formats, paired, plain, read_message, require_format
from mnemo.core.ids import new_id, parse_id
from mnemo.core.message_checks import search_text
from mnemo.core.messages import (
    DEFAULT_SESSION,
    ROLES,
    ConversationStats,
    MessageHit,
    MessagePage,
    MessageRecord,
    NewMessage,
)
from mnemo.core.records import Scope
from mnemo.core.tokens import TokenCounter
from mnemo.core.validation import require_content, require_limit
from mnemo.errors import InvalidInput, NotFound
from mnemo.kinds.memories import contextual_text, embedding_texts
from mnemo.retrieval.embedding import EmbeddingService
from mnemo.retrieval.search import HybridSearch, scored_hit
from mnemo.store.cache import Cache, CacheNamespace, MemoryCache, cache_namespace
from mnemo.store.postgres.filters import message_fragment
from mnemo.store.postgres.jobs import JobRequest
from mnemo.store.postgres.messages import Appended, Keyset, MessageStore, SessionRef

MAX_PAGE = 1_000
#: How many turns after a listing may be added to give its last calls their results.
MAX_PAIRING_TURNS = 64
#: Where each format names the call a tool result answers (for errors).
RESULT_ID_FIELDS = {"openai": "tool_call_id", "anthropic": "tool_use_id", "responses": "call_id"}
#: Seconds a session view lives in an in-process cache (other processes' writes go unheard).
LOCAL_VIEW_TTL = 5.0
message_hit = scored_hit(MessageHit)


def session_of(scope: Scope) -> SessionRef:
    """The session a scope names, or the default session of its user."""
    return SessionRef(scope.tenant_id, scope.user_id, scope.session_id or DEFAULT_SESSION)


def session_namespace(session: SessionRef) -> CacheNamespace:
    """Where cached views of one session live (invalidated by every write to it)."""
    return cache_namespace(session.tenant_id, session.user_id, "messages", session.session_id)


def view_ttl(cache: Cache) -> float | None:
    """How long a cached session view may live: Redis hears every process's
    invalidations (the cache's default TTL); an in-process cache hears only this
    process's, so its views expire after ``LOCAL_VIEW_TTL`` seconds."""
    return LOCAL_VIEW_TTL if isinstance(cache, MemoryCache) else None


class MessageService:
    """Adds, lists, searches and counts conversation turns."""

    def __init__(
        self,
        store: MessageStore,
        search: HybridSearch[MessageRecord, MessageHit],
        embeddings: EmbeddingService,
        cache: Cache,
        counter: TokenCounter,
        limits: Limits,
        *,
        max_search_limit: int = 100,
    ) -> None:
        self._store = store
        self._search = search
        self._embeddings = embeddings
        self._cache = cache
        self._counter = counter
        self._limits = limits
        self._max_search_limit = max_search_limit

    @property
    def store(self) -> MessageStore:
        """The table underneath, for the buffer and summary kinds."""
        return self._store

    async def add(
        self, scope: Scope, messages: Sequence[Mapping[str, Any]], *, fmt: str | None = None
    ) -> builtins.list[MessageRecord]:
        """Store ``messages`` as the next turns of the scope's session, all or none.

        Messages may be mnemo's own or a provider's (``fmt``: ``openai``,
        ``anthropic``, ``responses``; ``None`` detects each message's). Returns the
        stored records in input order. A message whose ``idempotency_key`` the
        session already holds is not stored again; its stored record comes back
        instead. Bad input raises ``InvalidInput`` and stores nothing.
        """
        return (await self.append(scope, messages, fmt=fmt)).records

    async def append(
        self,
        scope: Scope,
        messages: Sequence[Mapping[str, Any]],
        *,
        extraction: JobRequest | None = None,
        embed: bool = True,
        fmt: str | None = None,
    ) -> Appended:
        """``add``, and with ``extraction`` the turns registered for extraction and the
        job deferred in the same transaction (``Appended.ledger_seq`` says where in the
        ledger). Without ``embed`` the turns are stored with no vector (found by words
        only) until ``embed_pending`` gives them one.
        """
        prepared = self.prepare(scope, messages, fmt=fmt)
        if not prepared:
            return Appended([])
        session = session_of(scope)
        prepared = await self._answered(session, prepared)
        if embed:
            prepared = await self._embedded(session, prepared)
        appended = await self._store.append(
            session, prepared, model=self._embeddings.model_id, extraction=extraction
        )
        await self._cache.invalidate(session_namespace(session))
        return appended

    def prepare(
        self, scope: Scope, messages: Sequence[Mapping[str, Any]], *, fmt: str | None = None
    ) -> builtins.list[NewMessage]:
        """Validated ``NewMessage`` objects for a batch (not yet numbered or embedded);
        a tool result's search text names the call of the batch it answers."""
        if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence):
            raise InvalidInput("messages must be a list of objects with 'role' and 'content'")
        if len(messages) > self._limits.max_batch:
            raise InvalidInput(
                f"at most {self._limits.max_batch} messages per call, got {len(messages)}"
            )
        items = [plain(item) for item in messages]
        formats = batch_formats(items, require_format(fmt))
        prepared = [
            self._prepare_one(scope, item, i, f)
            for i, (item, f) in enumerate(zip(items, formats, strict=True))
        ]
        prepared = self._described(prepared, _calls_by_id(prepared))
        _unique([m.idempotency_key for m in prepared], "idempotency_key")
        _unique([m.turn_number for m in prepared], "turn_number")
        return prepared

    async def list(
        self,
        scope: Scope,
        *,
        roles: Sequence[str] | None = None,
        limit: int = 100,
        after_turn: int | None = None,
        newest_first: bool = False,
    ) -> builtins.list[MessageRecord]:
        """Turns of the scope, oldest first (or newest first), at most ``limit``.

        With a session they are ordered by turn number, and ``after_turn`` starts
        after (or, newest first, before) that turn; without one, by time across
        the user's sessions.
        """
        if after_turn is not None and scope.session_id is None:
            raise InvalidInput("after_turn needs a session_id")
        after = None if after_turn is None else Keyset(turn=_turn(after_turn, "after_turn"))
        return await self._page(scope, roles, limit, after, newest_first)

    async def paired(
        self, scope: Scope, records: builtins.list[MessageRecord]
    ) -> builtins.list[MessageRecord]:
        """A listing (oldest first) whose edges cut no call from its results: leading
        results are left out, and in a session the turns holding the results of its
        last calls are added (at most ``MAX_PAIRING_TURNS``)."""
        records = paired(records)
        pending = _pending_calls(records)
        if not pending or scope.session_id is None:
            return records
        last = records[-1].turn_number
        following = await self._store.turn_range(
            session_of(scope), last, last + MAX_PAIRING_TURNS, limit=MAX_PAIRING_TURNS
        )
        for record in following:
            if not set(_result_ids(record)) & pending:
                break
            records.append(record)
            pending -= set(_result_ids(record))
        return records

    async def page(
        self,
        scope: Scope,
        *,
        roles: Sequence[str] | None = None,
        limit: int = 100,
        cursor: str | None = None,
        newest_first: bool = False,
    ) -> MessagePage:
        """One page of turns (ordered as ``list``) and the cursor of the next page."""
        after = None if cursor is None else decode_cursor(cursor, scope, newest_first)
        messages = await self._page(scope, roles, limit, after, newest_first)
        more = len(messages) == limit
        next_cursor = encode_cursor(messages[-1], scope, newest_first) if more else None
        return MessagePage(messages, next_cursor)

    async def search(
        self,
        scope: Scope,
        query: str,
        *,
        roles: Sequence[str] | None = None,
        limit: int = 10,
        filters: Mapping[str, Any] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        exclude_session: str | None = None,
    ) -> builtins.list[MessageHit]:
        """The turns most relevant to ``query`` (hybrid, as for memories), best first, with
        score breakdowns. Tool calls and results are searched with the turn's content;
        ``exclude_session`` leaves that session's turns out."""
        query = require_content(query, max_chars=self._limits.max_content_chars, name="query")
        limit = require_limit(limit, maximum=self._max_search_limit)
        where = message_fragment(
            scope, roles=_roles(roles), filters=parse_filters(filters), since=since, until=until,
            exclude_session=exclude_session,
        )  # fmt: skip
        return await self._search.search(scope, query, where, limit=limit)

    async def session_stats(self, scope: Scope) -> ConversationStats:
        """Counts, sizes, tokens and time span of the scope's session (default session if
        none is named)."""
        session = session_of(scope)
        return await self._stats(replace(scope, session_id=session.session_id))

    async def user_stats(self, scope: Scope) -> ConversationStats:
        """The same over every session of the user (narrowed to the agent if named)."""
        return await self._stats(replace(scope, session_id=None))

    async def session_owner(self, tenant_id: str, session_id: str) -> str | None:
        """The user whose session this is (``None`` if it holds no turns); ``InvalidInput``
        if turns of several users share the session id. For callers that name only a
        session (the compatibility classes)."""
        owners = await self._store.session_owners(tenant_id, session_id)
        if len(owners) > 1:
            raise InvalidInput(f"session {session_id!r} holds turns of several users; pass user_id")
        return owners[0] if owners else None

    async def delete(self, scope: Scope, message_id: str) -> None:
        """Delete one turn of the user (``NotFound`` if there is none with this id)."""
        message_id = str(parse_id(message_id, what="message id"))
        session_id = await self._store.delete(scope, message_id)
        if session_id is None:
            raise NotFound(f"no message with id {message_id}")
        await self._cache.invalidate(
            session_namespace(session_of(replace(scope, session_id=session_id)))
        )

    async def delete_session(self, scope: Scope) -> int:
        """Delete every turn of the scope's session; the number deleted."""
        session = session_of(scope)
        deleted = await self._store.delete_session(session)
        await self._cache.invalidate(session_namespace(session))
        return deleted

    async def _page(
        self,
        scope: Scope,
        roles: Sequence[str] | None,
        limit: int,
        after: Keyset | None,
        newest_first: bool,
    ) -> builtins.list[MessageRecord]:
        limit = require_limit(limit, maximum=MAX_PAGE)
        where = message_fragment(scope, roles=_roles(roles))
        by_turn = scope.session_id is not None
        return await self._store.page(
            where, by_turn=by_turn, newest_first=bool(newest_first), limit=limit, after=after
        )

    async def _stats(self, scope: Scope) -> ConversationStats:
        totals, by_role = await self._store.stats(message_fragment(scope))
        one_session = scope.session_id is not None
        return ConversationStats(
            user_id=scope.user_id,
            session_id=scope.session_id,
            sessions=int(totals["sessions"]),
            messages=int(totals["messages"]),
            by_role={role: by_role.get(role, 0) for role in ROLES},
            tokens=int(totals["tokens"]),
            content_chars=int(totals["content_chars"]),
            tool_calls=int(totals["tool_calls"]),
            tool_results=int(totals["tool_results"]),
            first_turn=totals["first_turn"] if one_session else None,
            last_turn=totals["last_turn"] if one_session else None,
            oldest=totals["oldest"],
            newest=totals["newest"],
        )

    def _prepare_one(self, scope: Scope, item: object, index: int, fmt: str | None) -> NewMessage:
        limits = self._limits
        fields = read_message(
            item,
            index,
            fmt,
            max_chars=limits.max_content_chars,
            max_metadata_bytes=limits.max_metadata_bytes,
        )
        text = search_text(fields.content, fields.tool_calls, fields.tool_results)
        return NewMessage(
            id=str(new_id()),
            role=fields.role,
            content=fields.content,
            search_text=text,
            token_count=self._counter.count(text),
            turn_number=fields.turn_number,
            agent_id=fields.agent_id or scope.agent_id,
            name=fields.name,
            tool_calls=fields.tool_calls,
            tool_results=fields.tool_results,
            metadata=fields.metadata,
            created_at=fields.created_at,
            idempotency_key=fields.idempotency_key,
            source=fields.source,
        )

    async def _answered(
        self, session: SessionRef, messages: builtins.list[NewMessage]
    ) -> builtins.list[NewMessage]:
        """The batch with each tool result described by the stored call it answers; a
        provider's result that answers no call of the batch or the session is refused."""
        batch = _calls_by_id(messages)
        wanted = {i for m in messages for i in _result_ids(m)} - batch.keys()
        if not wanted:
            return messages
        stored = await self._store.tool_calls(session, sorted(wanted))
        for index, message in enumerate(messages):
            unknown = [i for i in _result_ids(message) if i in wanted - stored.keys()]
            if unknown and message.source is not None:
                field = RESULT_ID_FIELDS[message.source["format"]]
                raise InvalidInput(
                    f"message {index}.{field} {unknown[0]!r} answers no tool call of this "
                    "batch or session"
                )
        return self._described(messages, {**stored, **batch})

    def _described(
        self, messages: builtins.list[NewMessage], calls: Mapping[str, dict[str, Any]]
    ) -> builtins.list[NewMessage]:
        out = builtins.list(messages)
        for index, message in enumerate(messages):
            if message.tool_results and calls:
                text = search_text(message.content, message.tool_calls, message.tool_results, calls)
                count = self._counter.count(text)
                out[index] = replace(message, search_text=text, token_count=count)
        return out

    async def embed_pending(self, tenant_id: str, user_id: str, *, batch: int = 64) -> int:
        """Give every turn of the user stored without a vector its (previous turn, turn)
        vector, as ``add`` would have; how many were embedded."""
        done = 0
        while turns := await self._store.unembedded(tenant_id, user_id, limit=batch):
            texts = [contextual_text(t.previous, t.content) for t in turns]
            vectors = await self._embeddings.embed_passages(texts)
            stored = await self._store.set_embeddings(
                tenant_id, user_id, [t.id for t in turns], vectors, model=self._embeddings.model_id
            )
            done += stored
            if len(turns) < batch or stored == 0:
                break
        return done

    async def _embedded(
        self, session: SessionRef, messages: builtins.list[NewMessage]
    ) -> builtins.list[NewMessage]:
        """Messages with vectors of (previous turn, turn); already-stored keys are skipped."""
        keys = [m.idempotency_key for m in messages if m.idempotency_key is not None]
        stored = await self._store.keyed(session, keys)
        last = await self._store.last_message(session)
        previous = [search_text(last.content, last.tool_calls, last.tool_results)] if last else []
        texts = embedding_texts([*previous, *(m.search_text for m in messages)], contextual=True)
        texts = texts[len(previous) :]
        todo = [i for i, m in enumerate(messages) if m.idempotency_key not in stored]
        vectors = await self._embeddings.embed_passages([texts[i] for i in todo])
        out = builtins.list(messages)
        for i, vector in zip(todo, vectors, strict=True):
            out[i] = replace(out[i], embedding=vector)
        return out


def encode_cursor(last: MessageRecord, scope: Scope, newest_first: bool) -> str:
    """An opaque cursor: the listing it belongs to and the key of its last turn."""
    key: dict[str, Any] = (
        {"t": last.turn_number}
        if scope.session_id is not None
        else {"c": last.created_at.isoformat(), "i": last.id}
    )
    payload = {"s": scope.session_id, "d": bool(newest_first), **key}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def decode_cursor(cursor: object, scope: Scope, newest_first: bool) -> Keyset:
    """The keyset a cursor from ``encode_cursor`` holds, for the same listing."""
    payload = _cursor_payload(cursor)
    if payload.get("s") != scope.session_id or payload.get("d") != bool(newest_first):
        raise InvalidInput("this cursor belongs to another listing (session or order)")
    try:
        if scope.session_id is not None:
            return Keyset(turn=_turn(payload["t"], "cursor"))
        return Keyset(
            created_at=datetime.fromisoformat(payload["c"]),
            id=str(parse_id(payload["i"], what="cursor")),
        )
    except (TypeError, ValueError, KeyError):
        raise InvalidInput("cursor is not a cursor this listing returned") from None


def _cursor_payload(cursor: object) -> dict[str, Any]:
    try:
        if not isinstance(cursor, str):
            raise TypeError
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(payload, dict):
            raise TypeError
        return payload
    except (TypeError, ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor is not a cursor this listing returned") from None


def _roles(roles: Sequence[str] | str | None) -> list[str] | None:
    if roles is None:
        return None
    if isinstance(roles, str):
        roles = [roles]
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidInput(f"unknown roles {unknown!r}; known: {list(ROLES)}")
    return list(roles)


def _turn(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{name} must be a non-negative integer, got {value!r:.40}")
    return value


def _calls_by_id(messages: Sequence[NewMessage]) -> dict[str, dict[str, Any]]:
    return {str(c["id"]): c for m in messages for c in m.tool_calls or [] if c.get("id")}


def _pending_calls(records: Sequence[MessageRecord]) -> set[str]:
    """Ids of the calls in ``records`` that no later turn of them answers."""
    calls = {str(c["id"]) for r in records for c in r.tool_calls or [] if c.get("id")}
    return calls - {i for r in records for i in _result_ids(r)}


def _result_ids(message: NewMessage | MessageRecord) -> builtins.list[str]:
    return [str(r["tool_call_id"]) for r in message.tool_results or [] if r.get("tool_call_id")]


def _unique(values: Sequence[object], name: str) -> None:
    given = [v for v in values if v is not None]
    repeated = sorted({str(v) for v in given if given.count(v) > 1})
    if repeated:
        raise InvalidInput(f"{name} repeated within one batch: {repeated}")
