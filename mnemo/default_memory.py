"""The pgvector tutorial's free functions, on a default ``Memory`` opened on first use.

    from mnemo import add_to_memory, get_relevant_memories

    add_to_memory(conversation_id=123, content="The user prefers Python over JavaScript")
    get_relevant_memories(conversation_id=123, query="Which languages?", limit=5)

The default store is a ``Memory()`` configured from the environment
(``MNEMO_DATABASE_URL``, else ``POSTGRES_*``, else the embedded PostgreSQL), opened
by the first call, shared by every thread, and closed when the interpreter exits.
Importing ``mnemo`` opens nothing.
"""

from __future__ import annotations

import atexit
import threading

from mnemo.memory import Memory

__all__ = ["add_to_memory", "close_default_memory", "default_memory", "get_relevant_memories"]

_lock = threading.Lock()
_default: Memory | None = None


def default_memory() -> Memory:
    """The process-wide ``Memory`` the free functions use, opened on first call."""
    global _default
    with _lock:
        if _default is None:
            memory = Memory()
            # Registered after Memory() started the embedded server (whose own exit
            # handler stops it): atexit runs last-in, first-out, so this closes first.
            atexit.register(close_default_memory)
            _default = memory
        return _default


def close_default_memory() -> None:
    """Close the default ``Memory`` if it is open; the next call opens a new one."""
    global _default
    with _lock:
        memory, _default = _default, None
    if memory is not None:
        atexit.unregister(close_default_memory)
        memory.close()


def add_to_memory(conversation_id: str | int, content: str) -> str:
    """Store ``content`` in a conversation's memory; the new memory's id."""
    return default_memory().add_to_memory(conversation_id, content)


def get_relevant_memories(conversation_id: str | int, query: str, limit: int = 5) -> list[str]:
    """The contents of the conversation's memories most relevant to ``query``, best first."""
    return default_memory().get_relevant_memories(conversation_id, query, limit=limit)
