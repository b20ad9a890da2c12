"""Request and response bodies, with the size limits that keep one call bounded.

The limits here are the outer wall (they also document the API in OpenAPI); the
engine checks the same inputs again against the configured ``Limits``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mnemo.core.validation import MAX_SCOPE_ID_CHARS
from mnemo.orchestrator import MAX_CONTEXT_TOKENS

Kind = Literal["note", "fact", "preference", "commitment", "instruction", "entity", "event"]
ScopeId = Annotated[str, Field(min_length=1, max_length=MAX_SCOPE_ID_CHARS)]
Content = Annotated[str, Field(min_length=1, max_length=100_000)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Vector = Annotated[list[float], Field(min_length=1, max_length=4096)]
MAX_QUERY_CHARS = 10_000
#: Where every route of this API version lives.
API_PREFIX = "/api/v1"
MAX_SEARCH_RESULTS = 100


class Strict(BaseModel):
    """A request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class MemoryItem(Strict):
    """One memory to store. ``type`` is accepted as another name for ``kind``."""

    content: Content
    kind: Kind | None = None
    type: Kind | None = Field(default=None, description="the long-form service's name for kind")
    source_turn: int | None = Field(default=None, ge=0, description="kept in metadata")
    confidence: Unit = 1.0
    importance: Unit = 0.5
    metadata: dict[str, Any] | None = None
    agent_id: ScopeId | None = None
    session_id: ScopeId | None = None
    created_at: datetime | None = None
    embedding: Vector | None = Field(default=None, description="a precomputed vector")

    @model_validator(mode="after")
    def _one_kind(self) -> MemoryItem:
        if self.kind is not None and self.type is not None and self.kind != self.type:
            raise ValueError("kind and type name the same field; give one of them")
        return self

    def engine_item(self) -> dict[str, Any]:
        """The item as ``AsyncMemory.add_many`` takes it."""
        metadata = dict(self.metadata or {})
        if self.source_turn is not None:
            metadata["source_turn"] = self.source_turn
        item = self.model_dump(
            exclude={"type", "source_turn", "metadata", "user_id", "infer"}, exclude_none=True
        )
        item["kind"] = self.kind or self.type or "note"
        item["metadata"] = metadata
        return item


class MemoryCreate(MemoryItem):
    """``POST /memories``: one memory of ``user_id``."""

    user_id: ScopeId
    infer: bool = Field(default=False, description="extract memories (as AsyncMemory.add)")


class MemoryBatch(Strict):
    """``POST /memories/batch``: many memories of one user, stored all or none."""

    user_id: ScopeId
    items: Annotated[list[MemoryItem], Field(min_length=1, max_length=5000)]
    agent_id: ScopeId | None = None
    session_id: ScopeId | None = None
    contextual: bool = Field(default=True, description="embed each item with the one before")
    infer: bool = Field(default=False, description="extract memories (as AsyncMemory.add_many)")


class MemoryUpdate(Strict):
    """``PATCH /memories/{id}``: the fields to change (at least one)."""

    content: Content | None = None
    kind: Kind | None = None
    metadata: dict[str, Any] | None = None
    confidence: Unit | None = None
    importance: Unit | None = None
    pinned: bool | None = None


class SearchBody(Strict):
    """``POST /memories/{user_id}/search``: a query and its options."""

    query: Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS)] | None = None
    top_k: Annotated[int, Field(ge=1, le=MAX_SEARCH_RESULTS)] | None = None
    filters: dict[str, Any] | None = None
    kinds: Annotated[list[Kind], Field(max_length=7)] | None = None
    agent_id: ScopeId | None = None
    session_id: ScopeId | None = None
    as_of: datetime | None = None


class MemoryOut(BaseModel):
    """A stored memory."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    content: str
    kind: str
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    agent_id: str | None = None
    session_id: str | None = None
    confidence: float = 1.0
    importance: float = 0.5
    access_count: int = 0
    last_accessed_at: datetime | None = None
    status: str = "active"
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    superseded_by: str | None = None
    source_message_ids: list[str] = Field(default_factory=list)
    embedding_model: str | None = None
    pinned: bool = False
    decay_score: float = 1.0


class SearchHitOut(MemoryOut):
    """A search result: the memory, its final ``score`` and the ``scores`` behind it."""

    score: float
    scores: dict[str, float]


class SearchOut(BaseModel):
    user_id: str
    query: str
    results: list[SearchHitOut]
    weights: dict[str, float] = Field(
        default_factory=dict,
        description="how much each signal (relevance, recency, access, confidence, "
        "importance) counts in every result's score, normalised to sum to 1: "
        "score = sum(weights[name] * scores[name])",
    )


class CreatedOut(BaseModel):
    ids: list[str]


class QueuedOut(BaseModel):
    """``POST /memories`` with ``infer``: the stored turns, their extraction queued."""

    ids: list[str]
    extraction: dict[str, str] = Field(description="each turn's extraction state")


class MemoryPage(BaseModel):
    """One page of a listing; ``next_offset`` is ``None`` on the last page."""

    items: list[MemoryOut]
    limit: int
    offset: int
    next_offset: int | None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    memory_id: str
    event: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    actor: str | None
    created_at: datetime


class DeletedOut(BaseModel):
    """What a GDPR erasure removed: rows per table (and cache entries)."""

    user_id: str
    deleted: dict[str, int]
    total: int


class ImportOut(BaseModel):
    user_id: str
    imported: dict[str, int]
    skipped: dict[str, int]


Status = Literal["ok", "degraded", "down"]


class Dependency(BaseModel):
    status: Literal["ok", "degraded", "down", "disabled", "unchecked"]
    latency_ms: float | None = None
    detail: str = ""


class HealthOut(BaseModel):
    status: Status
    version: str
    auth: str
    checks: dict[str, Dependency] = Field(default_factory=dict)


class ConversationTurn(Strict):
    """``POST /conversation``: one turn of the long-form memory service's conversation API."""

    user_id: ScopeId
    turn_number: int = Field(ge=1, le=1_000_000_000)
    message: Content
    include_memories: bool = True
    session_id: ScopeId | None = None
    role: Literal["user", "assistant"] = "user"
    top_k: int = Field(default=10, ge=1, le=MAX_SEARCH_RESULTS)
    max_tokens: int = Field(default=1000, ge=1, le=32_000, description="the context block's budget")


class ConversationOut(BaseModel):
    """The stored turn, the memories relevant to it, and a context block for the model."""

    user_id: str
    session_id: str
    turn_number: int
    message_id: str
    extraction: str
    memories: list[SearchHitOut]
    context: str
    context_tokens: int


#: A message as a provider's SDK writes it (checked by the engine, errors name the field).
ProviderMessage = dict[str, Any]
MessageFormat = Literal["mnemo", "openai", "anthropic", "responses"]
ProviderFormat = Literal["openai", "anthropic", "responses"]


class MessageIn(Strict):
    """One conversation turn, as ``AsyncMemory.add_messages`` takes it."""

    role: Literal["user", "assistant", "tool", "system"]
    content: Annotated[str, Field(max_length=100_000)]
    name: Annotated[str, Field(max_length=255)] | None = None
    tool_calls: Annotated[list[dict[str, Any]], Field(max_length=100)] | None = None
    tool_results: Annotated[list[dict[str, Any]], Field(max_length=100)] | None = None
    metadata: dict[str, Any] | None = None
    created_at: datetime | None = None
    turn_number: int | None = Field(default=None, ge=1, le=1_000_000_000)
    idempotency_key: Annotated[str, Field(max_length=255)] | None = None
    agent_id: ScopeId | None = None


class MessageBatch(Strict):
    """``POST /messages``: turns of one session, stored all or none; mnemo's own or as
    OpenAI chat, Anthropic Messages or OpenAI Responses write them."""

    user_id: ScopeId
    session_id: ScopeId | None = None
    agent_id: ScopeId | None = None
    messages: Annotated[list[MessageIn | ProviderMessage], Field(min_length=1, max_length=1000)]
    infer: bool = Field(default=False, description="queue extraction of memories")
    format: MessageFormat | None = Field(
        default=None, description="the messages' format; by default detected per message"
    )


class ValueIn(Strict):
    """``PUT`` of a setting or key-value entry: any JSON value, optionally conditional."""

    value: Any
    expected_version: int | None = Field(default=None, ge=0, description="0: only if absent")
    reason: Annotated[str, Field(max_length=1000)] | None = None
    ttl_seconds: float | None = Field(default=None, gt=0, le=10 * 365 * 86400)


class DocumentIn(Strict):
    """``POST /documents/{user_id}``: a document's text (never a server-side path)."""

    name: Annotated[str, Field(min_length=1, max_length=1000)]
    content: Annotated[str, Field(min_length=1, max_length=900_000)]
    format: Annotated[str, Field(max_length=20)] | None = None
    title: Annotated[str, Field(max_length=1000)] | None = None
    metadata: dict[str, Any] | None = None
    shared: bool = Field(default=False, description="searchable by every user of the tenant")


class TextQuery(Strict):
    """A search over entities or documents."""

    query: Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS)]
    top_k: int = Field(default=10, ge=1, le=MAX_SEARCH_RESULTS)
    filters: dict[str, Any] | None = None


class WorkingItemIn(Strict):
    """``PUT /working/{user_id}/{namespace}/{key}``: one scratch item of a task."""

    value: Any
    importance: Unit = 0.5
    ttl_seconds: float | None = Field(default=None, gt=0, le=30 * 86400)


class StepIn(Strict):
    """``POST /working/{user_id}/{namespace}/chain``: one step of a reasoning chain."""

    step: Content
    result: Any = None
    importance: Unit = 0.5
    metadata: dict[str, Any] | None = None


class ObserveIn(Strict):
    """``POST /entities/{user_id}/observe``: a text whose entities to remember."""

    content: Content
    speaker: Annotated[str, Field(max_length=255)] | None = None


class ContextBody(Strict):
    """``POST /context``: what the model is about to answer, whose memory, the budget."""

    query: Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS)]
    user_id: ScopeId
    session_id: ScopeId | None = None
    agent_id: ScopeId | None = None
    max_tokens: int = Field(
        default=2000, ge=1, le=MAX_CONTEXT_TOKENS, description="the whole budget"
    )
    priorities: (
        Annotated[dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]],
                  Field(max_length=16, description="share of the budget per section")]
        | None
    ) = None  # fmt: skip
    sections: Annotated[list[Annotated[str, Field(max_length=64)]],
                        Field(min_length=1, max_length=16)] | None = None  # fmt: skip


class ContextEntryOut(BaseModel):
    """One line or passage of the context, and what it came from."""

    text: str
    source: str
    content: str
    ref: str | None
    details: dict[str, Any]
    tokens: int
    truncated: bool


class ContextSectionOut(BaseModel):
    """One section: its entries, its share of the budget, how gathering it went."""

    name: str
    title: str
    status: Literal["ok", "empty", "failed", "timeout"]
    entries: list[ContextEntryOut]
    tokens: int
    share: float
    quota: int
    found: int
    dropped_for_budget: int
    dropped_duplicates: int
    truncated: bool
    elapsed_ms: float
    error: str | None
    info: dict[str, Any]


class DroppedOut(BaseModel):
    """Something a section found that is not in the context, and why."""

    section: str
    source: str
    ref: str | None
    content: str
    reason: Literal["budget", "duplicate"]
    kept_in: str | None


class ContextOut(BaseModel):
    """The composed context (``context``, at most ``max_tokens`` tokens) and its parts."""

    query: str
    user_id: str
    session_id: str | None
    agent_id: str | None
    context: str
    tokens: int
    max_tokens: int
    token_counter: str
    degraded: bool
    errors: dict[str, str]
    sections: list[ContextSectionOut]
    dropped: list[DroppedOut]
    timings_ms: dict[str, float]


class UserOverviewOut(BaseModel):
    """One user of the tenant: current memories per kind, history, turns, last activity."""

    model_config = ConfigDict(from_attributes=True)

    user_id: str
    memories: int
    kinds: dict[str, int]
    superseded: int
    messages: int
    last_activity: datetime | None


class UserPage(BaseModel):
    """A page of users by id; pass ``next_after`` as ``after`` for the next one."""

    items: list[UserOverviewOut]
    next_after: str | None


class MessageOut(BaseModel):
    """A stored conversation turn."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    session_id: str
    turn_number: int
    role: str
    content: str
    created_at: datetime
    agent_id: str | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_results: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    token_count: int = 0


class ProvenanceOut(BaseModel):
    """Where a memory came from (its source turns, their extraction states by turn id)
    and what it turned into; ``memory.status`` is ``deleted`` for one only its
    history remembers."""

    model_config = ConfigDict(from_attributes=True)

    memory: MemoryOut
    sources: list[MessageOut]
    extraction: dict[str, str]
    superseded_by: MemoryOut | None
    supersedes: list[MemoryOut]


class SessionOut(BaseModel):
    """A conversation session: its turns and their extraction states (turns per state)."""

    model_config = ConfigDict(from_attributes=True)

    session_id: str
    turns: int
    first_turn: int
    last_turn: int
    started_at: datetime
    last_at: datetime
    tool_calls: int
    extraction: dict[str, int]


class QueuedTurnOut(BaseModel):
    """A turn in the extraction ledger, its state and last error, and its text."""

    model_config = ConfigDict(from_attributes=True)

    user_id: str
    message_id: str
    status: str
    attempts: int
    last_error: str | None
    memory_ids: list[str]
    updated_at: datetime
    session_id: str | None
    turn_number: int | None
    role: str | None
    content: str | None


ExtractionStatus = Literal["pending", "done", "failed"]


class ExtractionQueueOut(BaseModel):
    """Turns in one extraction state, the tenant's (or user's) turns per state, workers."""

    status: ExtractionStatus
    counts: dict[str, int]
    items: list[QueuedTurnOut]
    live_workers: int


class ExtractionStateOut(BaseModel):
    """Where one turn's extraction stands."""

    model_config = ConfigDict(from_attributes=True)

    message_id: str
    status: str
    attempts: int
    last_error: str | None
    memory_ids: list[str]
    updated_at: datetime


class RetryIn(Strict):
    """``POST /extractions/retry``: dead-lettered turns of one user, or of the tenant."""

    user_id: ScopeId | None = None


class RetryOut(BaseModel):
    retried: int = Field(description="turns queued for extraction again")


class RollbackIn(Strict):
    """``POST /settings/{user_id}/{key}/rollback``: restore what a recorded version set."""

    to_version: int = Field(ge=1, le=2**31 - 1)
    expected_version: int | None = Field(default=None, ge=0, le=2**31 - 1)
    reason: Annotated[str, Field(max_length=1000)] | None = None
