"""Extraction: proposing candidate memories from conversation turns.

Two extractors share the :class:`Extractor` protocol: :class:`RulesExtractor`
(offline, deterministic, the default) and :class:`LLMExtractor` (any
:class:`~mnemo.providers.llms.base.LLM`). Neither touches the store; the engine
reconciles what they propose.
"""

from mnemo.lifecycle.extraction.candidates import (
    CANDIDATE_KINDS,
    CandidateKind,
    CandidateMemory,
    Extraction,
    Extractor,
    Turn,
)
from mnemo.lifecycle.extraction.llm import EXTRACTION_SCHEMA, LLMExtractor
from mnemo.lifecycle.extraction.rules import RulesExtractor

__all__ = [
    "CANDIDATE_KINDS",
    "EXTRACTION_SCHEMA",
    "CandidateKind",
    "CandidateMemory",
    "Extraction",
    "Extractor",
    "LLMExtractor",
    "RulesExtractor",
    "Turn",
]
