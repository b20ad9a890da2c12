"""LangChain faces of mnemo (``pip install 'mnemo[langchain]'``).

- ``MnemoChatMessageHistory``: a ``BaseChatMessageHistory`` over one session's turns.
- ``MnemoRetriever``: a ``BaseRetriever`` over ``search`` / ``search_all``.

See docs/integrations.md.
"""

try:
    import langchain_core  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "mnemo.integrations.langchain needs LangChain: pip install 'mnemo[langchain]'"
    ) from exc

from mnemo.integrations.langchain.history import MnemoChatMessageHistory
from mnemo.integrations.langchain.retriever import MnemoRetriever

__all__ = ["MnemoChatMessageHistory", "MnemoRetriever"]
