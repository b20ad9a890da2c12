"""Conversation summary memory: the recent buffer plus a progressive summary of the rest.

The buffer is the last ``buffer_window_size`` turns of a session. When turns
fall out of it they are folded into the session's summary (``summaries``
table), which records the last turn it covers. ``fold_every`` > 1 waits until
that many turns have fallen out and folds them together (fewer LLM calls);
until then the buffer holds them too. Folding happens right after a
write and, if a summary lags (turns added elsewhere), before a read; each time
at most ``max_fold_steps`` steps of ``fold_batch`` turns, so no call waits long.
Two processes folding one session cannot both apply a fold (see
``store.postgres.summaries``).

``get_context`` returns the summary and the recent turns within
``max_total_tokens``; the summary is kept to ``summary_context_weight`` of it,
and whatever it leaves unused goes to the turns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mnemo.core.formats import paired, prompt_messages, require_format
from mnemo.core.messages import (
    MessageRecord,
    SessionSummary,
    record_from_json,
    record_to_json,
    summary_from_json,
    summary_to_json,
)
from mnemo.core.records import Scope
from mnemo.core.tokens import TokenCounter
from mnemo.errors import InvalidInput
from mnemo.kinds.buffer import fit_newest
from mnemo.kinds.messages import MessageService, session_namespace, session_of, view_ttl
from mnemo.lifecycle.summaries import EXTRACTIVE, SessionSummarizer
from mnemo.store.cache import Cache, decode_json, encode_json
from mnemo.store.postgres.messages import SessionRef
from mnemo.store.postgres.summaries import SummaryStore


@dataclass(frozen=True, slots=True)
class SummaryPolicy:
    """How much stays verbatim, how big the context is, and how folding is bounded."""

    buffer_window_size: int = 10
    max_total_tokens: int = 4000
    summary_context_weight: float = 0.3
    #: Turns that must leave the buffer before they are folded (together).
    fold_every: int = 1
    #: Turns folded per step, and steps per call.
    fold_batch: int = 100
    max_fold_steps: int = 5

    def __post_init__(self) -> None:
        names = ("buffer_window_size", "max_total_tokens", "fold_every", "fold_batch",
                 "max_fold_steps")  # fmt: skip
        for name in names:
            _positive_int(getattr(self, name), name)
        weight = self.summary_context_weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight < 1:
            raise InvalidInput(f"summary_context_weight must be in [0, 1), got {weight!r:.40}")

    def summary_budget(self, max_total_tokens: int | None = None) -> int:
        """Tokens the summary may use out of ``max_total_tokens`` (default: the policy's)."""
        return math.floor((max_total_tokens or self.max_total_tokens) * self.summary_context_weight)


class ConversationSummary:
    """Buffer + progressive summary of each session, under one ``SummaryPolicy``."""

    def __init__(
        self,
        messages: MessageService,
        summaries: SummaryStore,
        summarizer: SessionSummarizer,
        cache: Cache,
        counter: TokenCounter,
        policy: SummaryPolicy,
    ) -> None:
        self._messages = messages
        self._summaries = summaries
        self._summarizer = summarizer
        self._cache = cache
        self._counter = counter
        self.policy = policy

    @property
    def _fold_at(self) -> int:
        """Unsummarised turns at which a fold is due."""
        return self.policy.buffer_window_size + self.policy.fold_every

    async def add(
        self, scope: Scope, messages: Sequence[Mapping[str, Any]], *, fmt: str | None = None
    ) -> list[MessageRecord]:
        """Store turns (as ``MessageService.add``), then fold what left the buffer."""
        records = await self._messages.add(scope, messages, fmt=fmt)
        if records:
            last_turn = max(r.turn_number for r in records)
            summary = await self.summary(scope)
            if last_turn - _through(summary) >= self._fold_at:
                await self.refresh(scope)
        return records

    async def summary(self, scope: Scope) -> SessionSummary | None:
        """The session's summary as stored (``None`` before the first fold)."""
        session = session_of(scope)

        async def load() -> bytes:
            found = await self._summaries.get(session)
            return encode_json(summary_to_json(found) if found else None)

        key = session_namespace(session).key("summary")
        data = await self._cache.get_or_load(key, load, view_ttl(self._cache))
        payload = decode_json(data) if data is not None else None
        return summary_from_json(payload) if payload else None

    async def refresh(self, scope: Scope) -> SessionSummary | None:
        """Fold the turns that have left the buffer (bounded); the summary afterwards, as
        PostgreSQL holds it (a cached copy that another process outdated is dropped)."""
        session = session_of(scope)
        latest: SessionSummary | None = None
        for _ in range(self.policy.max_fold_steps):
            more, latest = await self._fold_step(session, scope.agent_id)
            if not more:
                break
        if latest is None:
            latest = await self._summaries.get(session)
        if _through(await self.summary(scope)) != _through(latest):
            await self._cache.invalidate(session_namespace(session))
        return latest

    async def get_context(
        self, scope: Scope, *, max_total_tokens: int | None = None, fmt: str | None = None
    ) -> dict[str, Any]:
        """Summary and recent turns ready for a prompt, within ``max_total_tokens``.

        Keys: ``summary``, ``messages`` (oldest first), ``tokens`` (the total),
        ``summary_tokens``, ``message_tokens``, ``summarized_through_turn``,
        ``max_total_tokens``, ``summary_context_weight``, ``truncated``, and the
        session and user. With ``fmt`` the messages are a provider's, starting after
        any tool result whose call the summary folded.
        """
        fmt = require_format(fmt)
        total = self.policy.max_total_tokens if max_total_tokens is None else max_total_tokens
        _positive_int(total, "max_total_tokens")
        summary, recent = await self._current(scope)
        text = self._fit_summary(summary.content if summary else "", total)
        summary_tokens = self._counter.count(text)
        kept, truncated = fit_newest(recent, total - summary_tokens, self._counter)
        kept = kept if fmt is None else paired(kept)
        message_tokens = sum(m.token_count for m in kept)
        return {
            "session_id": session_of(scope).session_id,
            "user_id": scope.user_id,
            "summary": text,
            "messages": prompt_messages(kept, fmt),
            "tokens": summary_tokens + message_tokens,
            "summary_tokens": summary_tokens,
            "message_tokens": message_tokens,
            "summarized_through_turn": _through(summary),
            "max_total_tokens": total,
            "summary_context_weight": self.policy.summary_context_weight,
            "truncated": truncated,
        }

    async def stats(self, scope: Scope) -> dict[str, Any]:
        """The session's stored totals plus the summary's state."""
        stats = (await self._messages.session_stats(scope)).as_dict()
        summary = await self.summary(scope)
        stats["summary"] = {
            "through_turn": _through(summary),
            "turns_folded": summary.turns_folded if summary else 0,
            "tokens": summary.token_count if summary else 0,
            "method": summary.method if summary else None,
            "updated_at": summary.updated_at.isoformat()
            if summary and summary.updated_at
            else None,
        }
        stats["policy"] = {
            "buffer_window_size": self.policy.buffer_window_size,
            "max_total_tokens": self.policy.max_total_tokens,
            "summary_context_weight": self.policy.summary_context_weight,
        }
        return stats

    async def _current(self, scope: Scope) -> tuple[SessionSummary | None, list[MessageRecord]]:
        """The summary and the unsummarised recent turns, folding first if the summary lags."""
        summary = await self.summary(scope)
        recent = await self._recent(session_of(scope), _through(summary))
        if len(recent) >= self._fold_at:
            summary = await self.refresh(scope)
            recent = await self._recent(session_of(scope), _through(summary))
        return summary, recent[-(self._fold_at - 1) :]

    async def _recent(self, session: SessionRef, through: int) -> list[MessageRecord]:
        """Up to ``_fold_at`` turns after ``through`` (that many means: a fold is due)."""
        limit = self._fold_at

        async def load() -> bytes:
            records = await self._messages.store.recent_by_turns(session, limit, after_turn=through)
            return encode_json([record_to_json(r) for r in records])

        key = session_namespace(session).key(f"unsummarised:{limit}:{through}")
        data = await self._cache.get_or_load(key, load, view_ttl(self._cache))
        return [record_from_json(r) for r in decode_json(data)] if data is not None else []

    async def _fold_step(
        self, session: SessionRef, agent_id: str | None
    ) -> tuple[bool, SessionSummary | None]:
        """Fold up to ``fold_batch`` turns that left the buffer. Whether more remain, and
        the stored summary (``None`` when unknown: another process held the lease)."""
        last = await self._messages.store.last_message(session)
        target = (last.turn_number if last else 0) - self.policy.buffer_window_size
        async with self._summaries.folding(session) as lease:
            if lease is None:  # another process is folding this session right now
                return False, None
            current = await lease.current()
            done = _through(current)
            if target <= done:
                return False, current
            turns = await self._messages.store.turn_range(
                session, done, target, limit=self.policy.fold_batch
            )
            through = turns[-1].turn_number if len(turns) == self.policy.fold_batch else target
            text, method = await self._folded(current, turns)
            folded = SessionSummary(
                session_id=session.session_id,
                content=text,
                through_turn=through,
                turns_folded=len(turns),
                token_count=self._counter.count(text),
                method=method,
            )
            saved = await lease.save(folded, previous_through=done, agent_id=agent_id)
        await self._cache.invalidate(session_namespace(session))
        return saved is not None and through < target, saved

    async def _folded(
        self, current: SessionSummary | None, turns: list[MessageRecord]
    ) -> tuple[str, str]:
        if not turns:  # the range was deleted meanwhile: nothing new to say
            return (current.content, current.method) if current else ("", EXTRACTIVE)
        previous = current.content if current else ""
        return await self._summarizer.fold(previous, turns, self.policy.summary_budget())

    def _fit_summary(self, text: str, max_total_tokens: int) -> str:
        budget = self.policy.summary_budget(max_total_tokens)
        lines = text.splitlines()
        while lines and self._counter.count("\n".join(lines)) > budget:
            lines.pop()
        return "\n".join(lines)


def _through(summary: SessionSummary | None) -> int:
    return summary.through_turn if summary is not None else 0


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{name} must be a positive integer, got {value!r:.40}")
    return value
