"""mnemo: long-term memory for LLM applications, on PostgreSQL + pgvector.

from mnemo import Memory
m = Memory()
m.add("I prefer dark roast", user_id="alice")
m.search("what coffee?", user_id="alice")

from mnemo import add_to_memory, get_relevant_memories   # the pgvector tutorial's
"""

from mnemo.config import (
    DocumentConfig,
    EntityConfig,
    KeyValueConfig,
    LifecycleConfig,
    Limits,
    MnemoConfig,
    SearchConfig,
    WorkingMemoryConfig,
)
from mnemo.core.document_records import ChunkHit, DocumentRecord, LoadResult, SourcedHit
from mnemo.core.entity_records import (
    EntityAnalytics,
    EntityHit,
    EntityRecord,
    EntityRelation,
    ObserveResult,
)
from mnemo.core.keyvalue import KVChange, KVEntry, KVNamespaceStats
from mnemo.core.messages import (
    ConversationStats,
    MessageHit,
    MessagePage,
    MessageRecord,
    SessionSummary,
)
from mnemo.core.records import AddResult, MemoryEvent, MemoryRecord, Scope, SearchHit
from mnemo.core.scoring import ScoringWeights, scoring_preset
from mnemo.core.working import (
    ChainStep,
    PutResult,
    WorkingContext,
    WorkingItem,
    WorkingNamespaceStats,
)
from mnemo.default_memory import add_to_memory, get_relevant_memories
from mnemo.engine import AsyncMemory
from mnemo.errors import (
    CitusMissing,
    ConfigurationError,
    Conflict,
    DimensionMismatch,
    EmbeddingError,
    EmbeddingModelMismatch,
    ExtensionMissing,
    Forbidden,
    InvalidDatabaseURL,
    InvalidFilter,
    InvalidInput,
    LLMError,
    MnemoError,
    NotFound,
    ProviderError,
    StoreUnavailable,
    UnsupportedSchema,
    WaitTimeout,
)
from mnemo.health import DependencyHealth, HealthReport
from mnemo.kinds.buffer import BufferPolicy, ConversationBuffer
from mnemo.kinds.summary import ConversationSummary, SummaryPolicy
from mnemo.lifecycle.optimize import OptimizeReport
from mnemo.memory import Memory
from mnemo.orchestrator import (
    ContextEntry,
    ContextRequest,
    ContextResult,
    ContextSection,
    DroppedEntry,
    MemoryType,
)
from mnemo.providers.embedders.base import Embedder
from mnemo.store.postgres.distribute import DistributionReport, distribute

__version__ = "0.1.0"

__all__ = [
    "AddResult",
    "AsyncMemory",
    "BufferPolicy",
    "ChainStep",
    "ChunkHit",
    "CitusMissing",
    "ConfigurationError",
    "Conflict",
    "ContextEntry",
    "ContextRequest",
    "ContextResult",
    "ContextSection",
    "ConversationBuffer",
    "ConversationStats",
    "ConversationSummary",
    "DependencyHealth",
    "DimensionMismatch",
    "DistributionReport",
    "DocumentConfig",
    "DocumentRecord",
    "DroppedEntry",
    "Embedder",
    "EmbeddingError",
    "EmbeddingModelMismatch",
    "EntityAnalytics",
    "EntityConfig",
    "EntityHit",
    "EntityRecord",
    "EntityRelation",
    "ExtensionMissing",
    "Forbidden",
    "HealthReport",
    "InvalidDatabaseURL",
    "InvalidFilter",
    "InvalidInput",
    "KVChange",
    "KVEntry",
    "KVNamespaceStats",
    "KeyValueConfig",
    "LLMError",
    "LifecycleConfig",
    "Limits",
    "LoadResult",
    "Memory",
    "MemoryEvent",
    "MemoryRecord",
    "MemoryType",
    "MessageHit",
    "MessagePage",
    "MessageRecord",
    "MnemoConfig",
    "MnemoError",
    "NotFound",
    "ObserveResult",
    "OptimizeReport",
    "ProviderError",
    "PutResult",
    "Scope",
    "ScoringWeights",
    "SearchConfig",
    "SearchHit",
    "SessionSummary",
    "SourcedHit",
    "StoreUnavailable",
    "SummaryPolicy",
    "UnsupportedSchema",
    "WaitTimeout",
    "WorkingContext",
    "WorkingItem",
    "WorkingMemoryConfig",
    "WorkingNamespaceStats",
    "__version__",
    "add_to_memory",
    "distribute",
    "get_relevant_memories",
    "scoring_preset",
]
