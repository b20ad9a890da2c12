"""``MemoryOrchestrator`` of the "memory implementations for LLM context" design, on mnemo.

    orchestrator = MemoryOrchestrator({
        "database_url": ..., "redis_url": "redis://localhost:6379",
        "enabled_memories": [MemoryType.CONVERSATION_SUMMARY, MemoryType.VECTOR_DATABASE,
                             MemoryType.ENTITY_MEMORY, MemoryType.WORKING_MEMORY],
        "parallel_queries": True,
        "default_context_priority": {"recent_conversation": 0.4, "summary": 0.2,
                                     "entities": 0.15, "vector_search": 0.15,
                                     "working_memory": 0.1},
    })
    context = await orchestrator.get_comprehensive_context(ContextRequest(
        query="How do I implement async programming in Python?",
        session_id="session_123", user_id="user_456", max_total_tokens=4000))
    print(context["context"])

One engine serves every kind (``orchestrator.memory(MemoryType.X)`` hands out
the kind's own class on it). Config keys besides the shared ones
(``mnemo.compat.base``): ``enabled_memories`` (``MemoryType`` members or their
values; default: all), ``parallel_queries`` (``True``), ``default_context_priority``
(shares per section; those not named keep mnemo's defaults),
``section_timeout_seconds`` (2). ``cross_memory_links`` is accepted and ignored:
cross-kind deduplication is always on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import fields, replace
from typing import Any

from mnemo.compat.base import CompatMemory
from mnemo.engine import AsyncMemory
from mnemo.errors import ConfigurationError, InvalidInput, MnemoError
from mnemo.orchestrator import (
    DEFAULT_PRIORITIES,
    DEFAULT_SECTION_TIMEOUT,
    ContextRequest,
    MemoryType,
    parse_priorities,
    parse_sections,
)

__all__ = ["ContextRequest", "MemoryOrchestrator", "MemoryType"]

#: The scope health probes read: a user id no application uses.
PROBE_USER = "__mnemo_health__"
PROBE_TIMEOUT = 5.0


class MemoryOrchestrator(CompatMemory):
    """Queries the enabled memory kinds concurrently and composes one context within
    a token budget (see ``mnemo.orchestrator``)."""

    memory_type = "orchestrator"

    def __init__(
        self, config: Mapping[str, Any] | None = None, *, memory: AsyncMemory | None = None
    ) -> None:
        super().__init__(config, memory=memory)
        try:
            self.enabled_memories = _memory_types(self.config.get("enabled_memories"))
            given = parse_priorities(self.config.get("default_context_priority"))
            self.section_timeout = _timeout(
                self.config.get("section_timeout_seconds", DEFAULT_SECTION_TIMEOUT)
            )
        except InvalidInput as exc:
            raise ConfigurationError(f"invalid MemoryOrchestrator config: {exc}") from exc
        self.default_context_priority: dict[str, float] = {**DEFAULT_PRIORITIES, **given}
        self.parallel_queries = bool(self.config.get("parallel_queries", True))
        self.sections = parse_sections(self.enabled_memories)
        self._kinds: dict[MemoryType, CompatMemory] = {}

    async def get_comprehensive_context(
        self, request: ContextRequest | Mapping[str, Any]
    ) -> dict[str, Any]:
        """The composed context of the enabled kinds, as ``ContextResult.as_dict()``:
        ``context`` (the text), ``tokens``, ``sections`` (entries, tokens, status,
        timing of each), ``dropped`` (what was left out and why), ``errors`` (sections
        that failed or timed out), ``timings_ms``. ``request`` is a ``ContextRequest``
        or a dict of its fields; naming a section that is not enabled raises
        ``InvalidInput``."""
        checked = _request(request)
        sections = checked.sections or self.sections
        disabled = sorted(set(sections) - set(self.sections))
        if disabled:
            raise InvalidInput(f"sections {disabled} are not enabled in this orchestrator")
        shares = {**self.default_context_priority, **(checked.priorities or {})}
        await self.initialize()
        result = await self.engine.context_for(
            replace(checked, priorities=shares, sections=sections),
            parallel=self.parallel_queries,
            section_timeout=self.section_timeout,
        )
        return result.as_dict()

    def memory(self, memory_type: MemoryType | str) -> CompatMemory:
        """The enabled kind's own class (``ConversationSummaryMemory``, ``EntityMemory``,
        ...) on this orchestrator's engine and config."""
        kind = _memory_types([memory_type])[0]
        if kind not in self.enabled_memories:
            raise InvalidInput(f"{kind.value} is not enabled in this orchestrator")
        if kind not in self._kinds:
            settings = {k: v for k, v in self.config.items() if k != "memory"}
            self._kinds[kind] = _kind_class(kind)(settings, memory=self.engine)
        return self._kinds[kind]

    async def health_check(self, *, probe_llm: bool = False) -> dict[str, Any]:
        """Each dependency (PostgreSQL, cache, embedder, LLM) and each enabled kind, with
        status and latency: ``{"status", "timestamp", "memory_type", "dependencies",
        "memories": {kind: {status, latency_ms, detail}}}``. A kind that cannot be read
        makes the whole at least ``degraded``."""
        report = await super().health_check(probe_llm=probe_llm)
        probes = [_probe(self.engine, kind) for kind in self.enabled_memories]
        checked = await asyncio.gather(*probes)
        memories = {
            kind.value: state for kind, state in zip(self.enabled_memories, checked, strict=True)
        }
        report["memories"] = memories
        if report["status"] == "healthy" and any(s["status"] != "ok" for s in memories.values()):
            report["status"] = "degraded"
        return report


def _memory_types(values: object) -> list[MemoryType]:
    if values is None:
        return list(MemoryType)
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidInput("enabled_memories must be a list of MemoryType")
    kinds: list[MemoryType] = []
    for value in values:
        try:
            kind = MemoryType(value)
        except ValueError:
            known = [t.value for t in MemoryType]
            raise InvalidInput(f"unknown memory type {value!r:.60}; known: {known}") from None
        if kind not in kinds:
            kinds.append(kind)
    if not kinds:
        raise InvalidInput("enabled_memories must name at least one MemoryType")
    return kinds


def _timeout(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e6:
        raise InvalidInput(f"section_timeout_seconds must be a positive number, got {value!r}")
    return float(value)


def _request(request: object) -> ContextRequest:
    if isinstance(request, ContextRequest):
        return request
    if not isinstance(request, Mapping):
        raise InvalidInput(
            f"the request must be a ContextRequest or a dict, got {type(request).__name__}"
        )
    known = {f.name for f in fields(ContextRequest)}
    unknown = sorted(set(request) - known)
    if unknown:
        raise InvalidInput(f"unknown request fields {unknown}; known: {sorted(known)}")
    return ContextRequest(**request)


def _kind_class(kind: MemoryType) -> type[CompatMemory]:
    from mnemo.compat.entity import EntityMemory
    from mnemo.compat.kv import KeyValueStoreMemory
    from mnemo.compat.memory_implementations import (
        ConversationBufferMemory,
        ConversationSummaryMemory,
    )
    from mnemo.compat.vector import VectorDatabaseMemory
    from mnemo.compat.working import WorkingMemory

    if kind is MemoryType.DOCUMENTS:
        raise InvalidInput("reference documents have no class of their own: use engine.documents")
    classes: dict[MemoryType, type[CompatMemory]] = {
        MemoryType.CONVERSATION_BUFFER: ConversationBufferMemory,
        MemoryType.CONVERSATION_SUMMARY: ConversationSummaryMemory,
        MemoryType.VECTOR_DATABASE: VectorDatabaseMemory,
        MemoryType.ENTITY_MEMORY: EntityMemory,
        MemoryType.WORKING_MEMORY: WorkingMemory,
        MemoryType.KEY_VALUE_STORE: KeyValueStoreMemory,
    }
    return classes[kind]


def _probe_read(engine: AsyncMemory, kind: MemoryType) -> Callable[[], Awaitable[object]]:
    """One small read of the kind's table for a user that has no rows."""
    user = PROBE_USER
    reads: dict[MemoryType, Callable[[], Awaitable[object]]] = {
        MemoryType.CONVERSATION_BUFFER: lambda: engine.list_messages(user_id=user, limit=1),
        MemoryType.CONVERSATION_SUMMARY: lambda: engine.list_messages(user_id=user, limit=1),
        MemoryType.VECTOR_DATABASE: lambda: engine.list(user_id=user, limit=1),
        MemoryType.ENTITY_MEMORY: lambda: engine.entities.list(user_id=user, limit=1),
        MemoryType.WORKING_MEMORY: lambda: engine.working.namespace_stats(user_id=user),
        MemoryType.KEY_VALUE_STORE: lambda: engine.kv.namespace_stats(user_id=user),
        MemoryType.DOCUMENTS: lambda: engine.documents.stats(user_id=user),
    }
    return reads[kind]


async def _probe(engine: AsyncMemory, kind: MemoryType) -> dict[str, Any]:
    read = _probe_read(engine, kind)
    start = time.perf_counter()
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            await read()
    except TimeoutError:
        return {
            "status": "down",
            "latency_ms": None,
            "detail": f"no answer within {PROBE_TIMEOUT:g} s",
        }
    except MnemoError as exc:
        return {"status": "down", "latency_ms": None, "detail": str(exc)}
    latency = round((time.perf_counter() - start) * 1000, 3)
    return {"status": "ok", "latency_ms": latency, "detail": f"{kind.value} answered"}
