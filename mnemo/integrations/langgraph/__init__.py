"""LangGraph face of mnemo (``pip install 'mnemo[langgraph]'``).

- ``MnemoStore``: a ``BaseStore`` for LangGraph's long-term memory (and LangMem), its
  items kept as mnemo memories and searched with mnemo's hybrid search.

See docs/integrations.md.
"""

try:
    import langgraph.store.base  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "mnemo.integrations.langgraph needs LangGraph: pip install 'mnemo[langgraph]'"
    ) from exc

from mnemo.integrations.langgraph.store import MnemoStore

__all__ = ["MnemoStore"]
