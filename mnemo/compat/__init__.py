"""Compatibility faces: the class names and call shapes of the designs mnemo unifies,
each a thin adapter over ``AsyncMemory`` (shared plumbing in ``compat.base``).

The "memory implementations for LLM context" design:

    from mnemo.compat import MemoryOrchestrator, MemoryType, ContextRequest
"""

from mnemo.compat.entity import EntityMemory
from mnemo.compat.kv import KeyValueStoreMemory
from mnemo.compat.memory_implementations import (
    ConversationBufferMemory,
    ConversationSummaryMemory,
)
from mnemo.compat.orchestrator import ContextRequest, MemoryOrchestrator, MemoryType
from mnemo.compat.vector import VectorDatabaseMemory
from mnemo.compat.working import WorkingMemory

__all__ = [
    "ContextRequest",
    "ConversationBufferMemory",
    "ConversationSummaryMemory",
    "EntityMemory",
    "KeyValueStoreMemory",
    "MemoryOrchestrator",
    "MemoryType",
    "VectorDatabaseMemory",
    "WorkingMemory",
]
