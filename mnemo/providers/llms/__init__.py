"""LLM providers behind one small seam (:class:`~mnemo.providers.llms.base.LLM`)."""

from mnemo.providers.llms.base import (
    LLM,
    ChatMessage,
    Completion,
    JSONRepairError,
    Usage,
    repair_json,
)

__all__ = ["LLM", "ChatMessage", "Completion", "JSONRepairError", "Usage", "repair_json"]
