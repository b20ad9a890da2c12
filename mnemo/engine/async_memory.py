"""``AsyncMemory``: the one engine every face (library, REST service, CLI, worker) runs on."""

from __future__ import annotations

from mnemo.engine.context import ContextMethods
from mnemo.engine.conversations import ConversationMethods
from mnemo.engine.lifecycle import LifecycleMethods
from mnemo.engine.memories import MemoryMethods
from mnemo.engine.users import UserDataMethods


class AsyncMemory(
    MemoryMethods, ConversationMethods, ContextMethods, LifecycleMethods, UserDataMethods
):
    """Long-term memory for one application: store, search, change and forget memories.

    ``AsyncMemory()`` with no arguments reads the environment (``MNEMO_DATABASE_URL``,
    ``MNEMO_DATA_DIR``, ...) and otherwise starts the embedded PostgreSQL. It opens
    on first use, or explicitly with ``await m.open()`` / ``async with``.
    """
