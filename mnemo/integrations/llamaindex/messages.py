"""LlamaIndex chat messages as mnemo conversation turns (what a memory block keeps).

Roles map onto mnemo's four (``developer`` → system; ``chatbot`` and ``model`` →
assistant; ``function`` → tool). The text blocks are the turn's content; an
assistant's ``ToolCallBlock``\\ s are its tool calls; a tool message's text is its
result (with ``additional_kwargs["tool_call_id"]`` / ``["name"]`` when present).
A message with neither text nor tool calls (an image alone) holds nothing a
memory can use, and is left out.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock

from mnemo.errors import InvalidInput

_ROLES = {
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "system",
    MessageRole.TOOL: "tool",
    MessageRole.FUNCTION: "tool",
}


def to_turns(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """The turns of ``messages`` worth keeping, in order (see the module docs)."""
    turns = [to_turn(message, index) for index, message in enumerate(messages)]
    return [turn for turn in turns if turn is not None]


def to_turn(message: ChatMessage, index: int = 0) -> dict[str, Any] | None:
    """One message as a turn, ``None`` if it holds nothing to remember."""
    if not isinstance(message, ChatMessage):
        raise InvalidInput(f"message {index} must be a LlamaIndex ChatMessage")
    role = _ROLES[MessageRole(message.role)]
    text = message.content or ""
    extras = message.additional_kwargs
    if role == "tool":
        if not text.strip():
            return None
        result = {"output": text, "tool_call_id": extras.get("tool_call_id"),
                  "name": extras.get("name")}  # fmt: skip
        return {"role": "tool", "content": "",
                "tool_results": [{k: v for k, v in result.items() if v is not None}]}  # fmt: skip
    calls = [_call(b) for b in message.blocks if isinstance(b, ToolCallBlock)]
    if not text.strip() and not calls:
        return None
    turn: dict[str, Any] = {"role": role, "content": text}
    if calls and role == "assistant":
        turn["tool_calls"] = calls
    return turn


def _call(block: ToolCallBlock) -> dict[str, Any]:
    call: dict[str, Any] = {"name": block.tool_name, "arguments": block.tool_kwargs}
    if block.tool_call_id is not None:
        call["id"] = block.tool_call_id
    return call


def query_text(messages: list[ChatMessage] | None, window: int) -> str:
    """What to search for: the text of the last ``window`` messages, latest last."""
    texts = [m.content for m in (messages or [])[-window:] if m.content and m.content.strip()]
    return "\n".join(texts)
