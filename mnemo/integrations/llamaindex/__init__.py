"""LlamaIndex face of mnemo (``pip install 'mnemo[llamaindex]'``).

- ``MnemoMemoryBlock``: a memory block for ``llama_index.core.memory.Memory``.
- ``MnemoRetriever``: a ``BaseRetriever`` over ``search`` / ``search_all``.

See docs/integrations.md.
"""

try:
    import llama_index.core  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "mnemo.integrations.llamaindex needs LlamaIndex: pip install 'mnemo[llamaindex]'"
    ) from exc

from mnemo.integrations.llamaindex.block import MnemoMemoryBlock
from mnemo.integrations.llamaindex.retriever import MnemoRetriever

__all__ = ["MnemoMemoryBlock", "MnemoRetriever"]
