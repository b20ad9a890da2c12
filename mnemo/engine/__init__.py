"""The engine: ``AsyncMemory``, the one async engine every face runs on.

``AsyncMemory`` (``async_memory.py``) is assembled from method groups, one module
each, all standing on ``EngineBase``:

- ``base``           opening and closing, wiring the stores and services, scopes,
                     tenant views (``for_tenant``)
- ``memories``       add, search, get, list, update, delete, history, ``search_all``
- ``kinds``          ``settings``, ``kv``, ``working``, ``entities``, ``documents``
- ``conversations``  turns (``messages``), buffers, summaries, health
- ``context``        the token-budgeted context (the work is ``mnemo.orchestrator``'s)
- ``lifecycle``      extraction on the job queue, ``optimize``, jobs, ``flush``,
                     ``reembed``, the worker
- ``users``          per-user data: ``delete_user``, ``stats``, export and import
"""

from mnemo.engine.async_memory import AsyncMemory

__all__ = ["AsyncMemory"]
