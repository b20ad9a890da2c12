"""The conversation buffer: the recent window of a session, by turns, tokens or time.

A window is read from the engine's cache (Redis or in-process) and loaded from
PostgreSQL on a miss; every write to the session invalidates it. What is cached
is a superset of any later answer until the next write (turns only leave a
time window as the clock moves on), so the time filter and the inactivity TTL
are applied at read time, never frozen into the cache.

Inactivity: a session whose newest turn is older than ``ttl_seconds`` has an
empty buffer. Its turns stay stored, listed and searchable; the next turn
makes the session active again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from mnemo.core.formats import paired, prompt_messages, require_format
from mnemo.core.message_checks import search_text
from mnemo.core.messages import MessageRecord, record_from_json, record_to_json
from mnemo.core.records import Scope
from mnemo.core.tokens import TokenCounter
from mnemo.errors import InvalidInput
from mnemo.kinds.messages import MessageService, session_namespace, session_of, view_ttl
from mnemo.store.cache import Cache, decode_json, encode_json
from mnemo.store.postgres.messages import SessionRef

WINDOW_TYPES = ("turns", "tokens", "time")
#: The most turns one window holds, so a huge token or time window stays bounded.
MAX_WINDOW_TURNS = 1_000
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class BufferPolicy:
    """Which recent turns make the buffer: the last ``window_size`` turns, the newest
    turns within ``window_size`` tokens, or those of the last ``window_size`` seconds;
    empty after ``ttl_seconds`` without a new turn (``None``: never)."""

    window_type: str = "turns"
    window_size: float = 10
    ttl_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.window_type not in WINDOW_TYPES:
            raise InvalidInput(f"window_type must be one of {list(WINDOW_TYPES)}")
        size = self.window_size
        if isinstance(size, bool) or not isinstance(size, (int, float)) or not size > 0:
            raise InvalidInput(f"window_size must be a positive number, got {size!r:.40}")
        if self.window_type != "time" and (not float(size).is_integer() or size > 10**9):
            raise InvalidInput(f"a {self.window_type} window_size must be a whole number")
        ttl = self.ttl_seconds
        if ttl is not None and (
            isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl > 0
        ):
            raise InvalidInput(f"ttl_seconds must be a positive number or None, got {ttl!r:.40}")


@dataclass(frozen=True, slots=True)
class BufferWindow:
    """The buffer of one session at one moment."""

    session_id: str
    messages: list[MessageRecord]
    tokens: int
    #: True when the session was inactive longer than the TTL (the buffer is empty).
    expired: bool
    #: When the session's newest turn was made (``None``: no turns).
    last_activity: datetime | None
    #: True when the newest turn alone exceeded a token window and was cut to fit.
    truncated: bool = False


class ConversationBuffer:
    """Reads a session's recent window under one ``BufferPolicy``."""

    def __init__(
        self,
        messages: MessageService,
        cache: Cache,
        counter: TokenCounter,
        policy: BufferPolicy,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._messages = messages
        self._cache = cache
        self._counter = counter
        self.policy = policy
        self._clock = clock or (lambda: datetime.now(UTC))

    async def window(self, scope: Scope) -> BufferWindow:
        """The scope's session window now (the default session if none is named)."""
        session = session_of(scope)
        now = self._clock()
        payload = await self._cached(session, now)
        last = payload["last_activity"]
        last_activity = datetime.fromisoformat(last) if last else None
        ttl = self.policy.ttl_seconds
        if last_activity is not None and ttl is not None and now - last_activity > _seconds(ttl):
            return BufferWindow(session.session_id, [], 0, True, last_activity)
        records = [record_from_json(m) for m in payload["messages"]]
        if self.policy.window_type == "time":
            since = now - _seconds(self.policy.window_size)
            records = [r for r in records if r.created_at >= since]
        return self._fitted(session.session_id, records, last_activity)

    async def get_context(self, scope: Scope, *, fmt: str | None = None) -> dict[str, Any]:
        """The window ready for a prompt: ``messages`` (role, content, tools, ...; with
        ``fmt`` a provider's messages, the window starting after any tool result whose
        call it does not hold), ``tokens``, ``expired``, ``last_activity``, the policy
        and the session."""
        fmt = require_format(fmt)
        window = await self.window(scope)
        kept = window.messages if fmt is None else paired(window.messages)
        return {
            "session_id": window.session_id,
            "user_id": scope.user_id,
            "messages": prompt_messages(kept, fmt),
            "message_count": len(kept),
            "tokens": sum(m.token_count for m in kept),
            "window_type": self.policy.window_type,
            "window_size": self.policy.window_size,
            "ttl_seconds": self.policy.ttl_seconds,
            "expired": window.expired,
            "truncated": window.truncated,
            "last_activity": _iso(window.last_activity),
        }

    async def stats(self, scope: Scope) -> dict[str, Any]:
        """The session's stored totals plus what the buffer holds now."""
        stats = (await self._messages.session_stats(scope)).as_dict()
        window = await self.window(scope)
        stats["buffer"] = {
            "messages": len(window.messages),
            "tokens": window.tokens,
            "expired": window.expired,
            "window_type": self.policy.window_type,
            "window_size": self.policy.window_size,
            "ttl_seconds": self.policy.ttl_seconds,
        }
        return stats

    async def _cached(self, session: SessionRef, now: datetime) -> dict[str, Any]:
        policy = self.policy
        key = session_namespace(session).key(f"window:{policy.window_type}:{policy.window_size:g}")

        async def load() -> bytes:
            records = await self._load(session, now)
            newest = records[-1] if records and policy.window_type != "time" else None
            if newest is None:
                newest = await self._messages.store.last_message(session)
            last_activity = newest.created_at.isoformat() if newest is not None else None
            messages = [record_to_json(r) for r in records]
            return encode_json({"last_activity": last_activity, "messages": messages})

        data = await self._cache.get_or_load(key, load, view_ttl(self._cache))
        payload: dict[str, Any] = decode_json(data) if data is not None else {}
        return payload

    async def _load(self, session: SessionRef, now: datetime) -> list[MessageRecord]:
        store, size = self._messages.store, self.policy.window_size
        if self.policy.window_type == "turns":
            return await store.recent_by_turns(session, int(size))
        if self.policy.window_type == "tokens":
            return await store.recent_by_tokens(
                session, int(size), cap=min(int(size), MAX_WINDOW_TURNS)
            )
        return await store.recent_since(session, now - _seconds(size), cap=MAX_WINDOW_TURNS)

    def _fitted(
        self, session_id: str, records: list[MessageRecord], last_activity: datetime | None
    ) -> BufferWindow:
        tokens = sum(r.token_count for r in records)
        budget = int(self.policy.window_size)
        if self.policy.window_type != "tokens" or tokens <= budget or not records:
            return BufferWindow(session_id, records, tokens, False, last_activity)
        newest = truncate_turn(records[-1], budget, self._counter)
        return BufferWindow(session_id, [newest], newest.token_count, False, last_activity, True)


def fit_newest(
    records: list[MessageRecord], budget: int, counter: TokenCounter
) -> tuple[list[MessageRecord], bool]:
    """The newest turns whose tokens fit ``budget`` (oldest first), and whether the newest
    turn had to be cut because even it alone did not fit."""
    kept: list[MessageRecord] = []
    used = 0
    for record in reversed(records):
        if used + record.token_count > budget:
            break
        kept.append(record)
        used += record.token_count
    if kept or not records or budget <= 0:
        return list(reversed(kept)), False
    return [truncate_turn(records[-1], budget, counter)], True


def truncate_turn(record: MessageRecord, budget: int, counter: TokenCounter) -> MessageRecord:
    """The turn cut to ``budget`` tokens: its text (content, then tool lines) truncated,
    the structured tool fields and provider form dropped, ``metadata["truncated"]`` set."""
    text = search_text(record.content, record.tool_calls, record.tool_results)
    content = counter.truncate(text, budget)
    return replace(
        record,
        content=content,
        tool_calls=None,
        tool_results=None,
        source=None,
        token_count=counter.count(content),
        metadata={**record.metadata, "truncated": True},
    )


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=float(value))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
