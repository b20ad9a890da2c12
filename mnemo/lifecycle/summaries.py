"""Fold conversation turns into a session's running summary.

With an LLM configured, the model rewrites the summary (prompt:
``prompts/summarize.md``) within a time limit; without one, or when the model
fails or is too slow, the offline extractive summariser of ``core.summarize``
does it. Either way the result fits the token limit by the offline counter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from importlib.resources import files

from mnemo.core.message_checks import turn_texts
from mnemo.core.messages import MessageRecord
from mnemo.core.summarize import SummaryTurn, summarize_progressive
from mnemo.core.tokens import TokenCounter
from mnemo.errors import ProviderError
from mnemo.providers.llms.base import LLM, ChatMessage

logger = logging.getLogger(__name__)

EXTRACTIVE = "extractive"


class SessionSummarizer:
    """Turns (previous summary, new turns) into the next summary and names the method."""

    def __init__(self, llm: LLM | None, counter: TokenCounter, *, timeout: float = 20.0) -> None:
        self._llm = llm
        self._counter = counter
        self._timeout = timeout

    async def fold(
        self, previous: str, turns: Sequence[MessageRecord], max_tokens: int
    ) -> tuple[str, str]:
        """The new summary (at most ``max_tokens`` tokens) and ``"llm:<model>"`` or
        ``"extractive"``, whichever produced it."""
        if self._llm is not None:
            try:
                async with asyncio.timeout(self._timeout):
                    text = await self._with_llm(self._llm, previous, turns, max_tokens)
                return self._fit(text, max_tokens), f"llm:{self._llm.model_id}"
            except (ProviderError, TimeoutError) as exc:
                logger.warning("LLM summary failed (%s); folding with the offline summariser", exc)
        text = await asyncio.to_thread(
            summarize_progressive,
            previous,
            [summary_turn(t, text) for t, text in zip(turns, turn_texts(turns), strict=True)],
            max_tokens,
            counter=self._counter,
        )
        return text, EXTRACTIVE

    async def _with_llm(
        self, llm: LLM, previous: str, turns: Sequence[MessageRecord], max_tokens: int
    ) -> str:
        instructions = _prompt().replace("{max_tokens}", str(max_tokens))
        texts = turn_texts(turns)
        lines = "\n".join(_turn_line(t, text) for t, text in zip(turns, texts, strict=True))
        request = f"Current summary:\n{previous or '(empty)'}\n\nNew turns:\n{lines}"
        messages = [ChatMessage.system(instructions), ChatMessage.user(request)]
        completion = await llm.complete(messages, max_tokens=max_tokens)
        return completion.text.strip()

    def _fit(self, text: str, max_tokens: int) -> str:
        """``text`` cut to whole lines (then tokens) so it fits ``max_tokens``."""
        lines = text.splitlines()
        while len(lines) > 1 and self._counter.count("\n".join(lines)) > max_tokens:
            lines.pop()
        return self._counter.truncate("\n".join(lines), max_tokens)


def summary_turn(record: MessageRecord, text: str) -> SummaryTurn:
    """A stored turn as the offline summariser reads it: speaker, ``text`` (with its
    tools, as ``turn_texts`` reads them), date."""
    when = f"{record.created_at.day} {record.created_at:%B %Y}"
    return SummaryTurn(speaker=record.name or record.role, text=text, when=when)


def _turn_line(record: MessageRecord, text: str) -> str:
    speaker = record.name or record.role
    return f"[turn {record.turn_number}, {record.created_at:%Y-%m-%d %H:%M}] {speaker}: {text}"


def _prompt() -> str:
    return (files("mnemo.lifecycle") / "prompts" / "summarize.md").read_text(encoding="utf-8")
