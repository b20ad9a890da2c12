"""``MemoryType``: the collections a Memorizz memory provider stores records in."""

from __future__ import annotations

from enum import StrEnum


class MemoryType(StrEnum):
    """A collection of records. Plain strings with these values are accepted too."""

    PERSONAS = "personas"
    TOOLBOX = "toolbox"
    SHORT_TERM_MEMORY = "short_term_memory"
    LONG_TERM_MEMORY = "long_term_memory"
    CONVERSATION_MEMORY = "conversation_memory"
    WORKFLOW_MEMORY = "workflow_memory"
    MEMAGENT = "agents"
    SHARED_MEMORY = "shared_memory"
    # Names of later Memorizz releases. KNOWLEDGE_BASE succeeds long-term memory and
    # reads and writes the same collection.
    KNOWLEDGE_BASE = "knowledge_base"
    ENTITY_MEMORY = "entity_memory"
    SUMMARIES = "summaries"
    SEMANTIC_CACHE = "semantic_cache"
    SKILLBOX = "skillbox"
    TOOL_LOG = "tool_log"


#: Collections stored under another name: the successor reads its predecessor's records.
SAME_COLLECTION = {MemoryType.KNOWLEDGE_BASE.value: MemoryType.LONG_TERM_MEMORY.value}


def collection_of(memory_type: object) -> object:
    """The stored collection of ``memory_type`` (unchanged unless it is an alias);
    anything else is passed on for the engine to check."""
    value = memory_type.value if isinstance(memory_type, MemoryType) else memory_type
    if isinstance(value, str):
        return SAME_COLLECTION.get(value, value)
    return memory_type


__all__ = ["MemoryType", "collection_of"]
