"""``AsyncMemory.context``: the one-call path to a token-budgeted context.

One of ``AsyncMemory``'s method groups (see ``mnemo.engine``); the work is done
by ``mnemo.orchestrator``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from mnemo.core.validation import require_content
from mnemo.engine.base import EngineBase
from mnemo.engine.reads import read_only
from mnemo.orchestrator import DEFAULT_SECTION_TIMEOUT, ContextRequest, ContextResult, build_context

if TYPE_CHECKING:
    from mnemo.engine import AsyncMemory


class ContextMethods(EngineBase):
    """``context()``: instructions, summary, recent turns, memories, entities, working
    memory and reference passages, deduplicated, within one token budget."""

    @read_only
    async def context(
        self,
        query: str,
        *,
        user_id: str,
        session_id: str | None = None,
        agent_id: str | None = None,
        max_tokens: int = 2000,
        priorities: Mapping[str, float] | None = None,
        sections: Iterable[str] | None = None,
        parallel: bool = True,
        section_timeout: float = DEFAULT_SECTION_TIMEOUT,
    ) -> ContextResult:
        """What the model should know to answer ``query``, as text of at most
        ``max_tokens`` tokens (OpenAI's o200k count, headers included) and as sections.

        Sections (``mnemo.orchestrator.SECTION_NAMES``; all unless ``sections`` names
        some): instructions and settings, the session's summary, its recent turns,
        the user's relevant memories, the relevant past turns of the user's other
        sessions (verbatim, with date and session), entities, working memory and
        reference passages. ``priorities`` changes their shares of the budget
        (defaults: recent conversation 0.4, summary 0.2, entities 0.15, memories
        0.15, past turns 0.15, working memory 0.1, instructions 0.1, documents 0.1).
        Sections are gathered concurrently (``parallel``); one that fails or takes
        over ``section_timeout`` seconds is reported in the result, not raised. Bad
        input raises ``InvalidInput``.
        """
        request = ContextRequest(
            query, user_id, session_id, max_tokens, priorities, agent_id, sections
        )
        return await self.context_for(request, parallel=parallel, section_timeout=section_timeout)

    @read_only
    async def context_for(
        self,
        request: ContextRequest,
        *,
        parallel: bool = True,
        section_timeout: float = DEFAULT_SECTION_TIMEOUT,
    ) -> ContextResult:
        """``context`` for a ready ``ContextRequest``."""
        require_content(request.query, max_chars=self.config.limits.max_content_chars, name="query")
        scope = self._scope(request.user_id, request.agent_id, None)
        await self._ready()

        async def warm_query() -> Any:
            return await self._embeddings.embed_query(scope, request.query)

        return await build_context(
            cast("AsyncMemory", self),
            request,
            warm_query=warm_query,
            parallel=parallel,
            section_timeout=section_timeout,
        )
