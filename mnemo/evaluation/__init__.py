"""Measuring mnemo on conversation data: the evidence-recall protocol and its baselines.

``mnemo bench recall PATH`` and the scripts under ``benchmarks/`` share this code:
:mod:`~mnemo.evaluation.dataset` reads LoCoMo-format files,
:mod:`~mnemo.evaluation.protocol` stores the turns and searches the questions,
:mod:`~mnemo.evaluation.metrics` scores recall@k, :mod:`~mnemo.evaluation.baselines`
ranks the same turns with BM25 and dense cosine, :mod:`~mnemo.evaluation.report`
prints the result.
"""

from mnemo.evaluation.dataset import (
    DATE_ORDERS,
    LOCOMO_CATEGORIES,
    Conversation,
    Question,
    Turn,
    first_turns,
    load_conversations,
)
from mnemo.evaluation.metrics import DEFAULT_KS, RecallReport, evaluate, recall_at_k
from mnemo.evaluation.protocol import DEPTH, RecallRun, measure_recall

__all__ = [
    "DATE_ORDERS",
    "DEFAULT_KS",
    "DEPTH",
    "LOCOMO_CATEGORIES",
    "Conversation",
    "Question",
    "RecallReport",
    "RecallRun",
    "Turn",
    "evaluate",
    "first_turns",
    "load_conversations",
    "measure_recall",
    "recall_at_k",
]
