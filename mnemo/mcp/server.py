"""``build_server(resolve)``: mnemo's MCP server, its tools described for agents.

Each description says when an agent should call the tool. Read tools are
marked read-only, the two deletions destructive; none reaches outside mnemo.
An ``observe`` callback hears of every call: the tool, ``ok`` or ``error`` (a
refusal, arguments that fail validation, or a failure), and its seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ToolAnnotations

import mnemo
from mnemo.mcp.identity import CallerResolver
from mnemo.mcp.tools import CONFIRM_ERASURE, MemoryTools, ToolLimits

INSTRUCTIONS = """\
mnemo is this user's long-term memory. At the start of a task call get_context with the
user's message to learn what you already know about them. When the user tells you a
lasting fact, preference, commitment or instruction, call add_memory (or hand whole
exchanges to add_conversation and let mnemo extract them). Call search_memories when you
need something specific you may have been told before. Everything you store and read
belongs to the current user only; you cannot name another user."""


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False


TOOLS = (
    ToolSpec("add_memory",
             "Remember one lasting thing about the user: a fact, preference, commitment, "
             "instruction or note. Call it when the user states something worth knowing in "
             "later conversations (not small talk). Returns the stored memory with its id."),
    ToolSpec("add_conversation",
             "Store conversation turns as they happened. With infer (the default) mnemo "
             "queues the extraction of memories from them and returns at once; check "
             "extraction_status with the returned ids to see when memories are ready. Call "
             "it at the end of an exchange instead of picking facts out yourself."),
    ToolSpec("search_memories",
             "Find the user's memories most relevant to a query, best first, each with its "
             "score and the breakdown behind it. Call it when you need something specific "
             "the user may have told you before; narrow with kinds, metadata filters, a "
             "session, or as_of for what was true at a past time.", read_only=True),
    ToolSpec("get_context",
             "Everything worth knowing to answer the user's message, as one text within "
             "max_tokens: instructions and settings, the session's summary and recent turns, "
             "relevant memories, entities, working memory and reference passages. Call it at "
             "the start of a task or turn and put the text in your reasoning.", read_only=True),
    ToolSpec("list_memories",
             "Page through the user's memories, newest first (or those superseded or "
             "deleted). Call it when the user asks what you remember about them, or to "
             "review memories before changing them.", read_only=True),
    ToolSpec("get_memory",
             "One memory by id, with every change it went through (history). Call it before "
             "updating a memory, or to explain where a memory came from.", read_only=True),
    ToolSpec("update_memory",
             "Correct or re-rate a memory by id: new content, kind, metadata, importance, "
             "confidence, or pin it. The previous version stays in its history. Call it when "
             "the user corrects something you remembered.", idempotent=True),
    ToolSpec("delete_memory",
             "Delete one memory by id (its history records what it was). Call it when the "
             "user asks you to forget that one thing.", destructive=True, idempotent=True),
    ToolSpec("delete_all_memories",
             "Erase EVERYTHING stored about the user: memories, conversations, settings, "
             "documents, entities, working memory. Only when the user explicitly asks to be "
             f"forgotten entirely; confirm must read exactly {CONFIRM_ERASURE!r}. Returns the "
             "rows removed per table.", destructive=True, idempotent=True),
    ToolSpec("search_all",
             "Search the user's memories and the reference documents (manuals, specs) "
             "together, in one ranked list. Call it when the answer may be in documentation "
             "as well as in what the user said.", read_only=True),
    ToolSpec("extraction_status",
             "How extraction of conversation turns stands: the user's turns per state "
             "(pending, done, failed) and, for the turn ids given, each one's state and the "
             "memories it produced. Call it after add_conversation when you need its "
             "memories.", read_only=True),
)  # fmt: skip


#: Hears of each tool call: ``(tool, outcome, seconds)``, outcome ``ok`` or ``error``.
ToolObserver = Callable[[str, str, float], None]
#: The tool label of a call naming no tool of the server (bounded label values).
UNKNOWN_TOOL = "unknown"
_NAMES = frozenset(spec.name for spec in TOOLS)


class ObservedServer(MCPServer):
    """An ``MCPServer`` that reports each tool call to an observer."""

    def __init__(self, *args: Any, observe: ToolObserver, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._observe = observe

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> Any:
        start, outcome = time.perf_counter(), "error"
        try:
            result = await super().call_tool(name, arguments, context)
            if not (isinstance(result, CallToolResult) and result.is_error):
                outcome = "ok"
            return result
        finally:
            tool = name if name in _NAMES else UNKNOWN_TOOL
            self._observe(tool, outcome, time.perf_counter() - start)


def build_server(
    resolve: CallerResolver,
    *,
    limits: ToolLimits | None = None,
    observe: ToolObserver | None = None,
) -> MCPServer:
    """An MCP server whose tools act for the caller ``resolve`` finds for each call;
    ``observe`` hears of every tool call."""
    options: dict[str, Any] = {} if observe is None else {"observe": observe}
    server: MCPServer = (MCPServer if observe is None else ObservedServer)(
        "mnemo",
        title="mnemo memory",
        version=mnemo.__version__,
        instructions=INSTRUCTIONS,
        log_level="WARNING",  # it configures logging only where nothing has (basicConfig)
        **options,
    )
    tools = MemoryTools(resolve, limits)
    for spec in TOOLS:
        hints = ToolAnnotations(
            title=spec.name.replace("_", " "),
            read_only_hint=spec.read_only,
            destructive_hint=spec.destructive,
            idempotent_hint=spec.read_only or spec.idempotent,
            open_world_hint=False,
        )
        server.add_tool(
            getattr(tools, spec.name), name=spec.name, description=spec.description,
            annotations=hints, structured_output=True,
        )  # fmt: skip
    return server
