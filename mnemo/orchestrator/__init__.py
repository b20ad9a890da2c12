"""Context assembly: gather every memory kind concurrently, compose one context within
a token budget.

``AsyncMemory.context(query, user_id=..., ...)`` is the one-call path;
``build_context`` runs a ``ContextRequest`` on anything that is a ``MemoryReader``
(the engine's read side, ``reader``; ``mnemo.compat``'s ``MemoryOrchestrator``
uses it). ``request`` names the sections and parses
budgets and shares, ``sources`` reads each kind, ``gather`` runs the sources
with timeouts, ``compose`` (pure) budgets, deduplicates and renders, ``result``
holds what comes back.
"""

from mnemo.orchestrator.compose import Candidate, Gathered, compose
from mnemo.orchestrator.gather import DEFAULT_SECTION_TIMEOUT, build_context
from mnemo.orchestrator.reader import MemoryReader
from mnemo.orchestrator.request import (
    DEFAULT_PRIORITIES,
    MAX_CONTEXT_TOKENS,
    SECTION_NAMES,
    ContextRequest,
    MemoryType,
    parse_priorities,
    parse_sections,
)
from mnemo.orchestrator.result import ContextEntry, ContextResult, ContextSection, DroppedEntry

__all__ = [
    "DEFAULT_PRIORITIES",
    "DEFAULT_SECTION_TIMEOUT",
    "MAX_CONTEXT_TOKENS",
    "SECTION_NAMES",
    "Candidate",
    "ContextEntry",
    "ContextRequest",
    "ContextResult",
    "ContextSection",
    "DroppedEntry",
    "Gathered",
    "MemoryReader",
    "MemoryType",
    "build_context",
    "compose",
    "parse_priorities",
    "parse_sections",
]
