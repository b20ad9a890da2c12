"""``MnemoSession``: the OpenAI Agents SDK's ``Session`` protocol on mnemo's turns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from agents.exceptions import UserError
from agents.items import TResponseInputItem
from agents.memory import SessionSettings
from agents.memory.session_settings import resolve_session_limit

from mnemo.core.messages import MessageRecord
from mnemo.engine import AsyncMemory
from mnemo.errors import Conflict, InvalidInput
from mnemo.integrations._bridge import Bridge
from mnemo.integrations._operations import session_turns
from mnemo.integrations.openai_agents.items import from_turn, to_turn
from mnemo.memory import Memory

R = TypeVar("R")


class MnemoSession:
    """One conversation of the SDK, stored as the turns of a mnemo session.

    ``session_id`` names the conversation; ``user_id`` (and ``agent_id``,
    ``tenant_id`` if given) fix whose it is. Items are appended as new turns and
    never rewritten; ``pop_item`` and ``clear_session`` delete turns. Items the
    store refuses raise the SDK's ``UserError`` (carrying mnemo's message) and
    store nothing. Works on a ``Memory`` or an ``AsyncMemory``.
    """

    def __init__(
        self,
        memory: Memory | AsyncMemory,
        *,
        session_id: str,
        user_id: str,
        agent_id: str | None = None,
        tenant_id: str | None = None,
        session_settings: SessionSettings | None = None,
    ) -> None:
        self._bridge = Bridge(memory, tenant_id=tenant_id)
        self.session_id = session_id
        self.user_id = user_id
        self.agent_id = agent_id
        self.session_settings = session_settings

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        """The session's items, oldest first; with ``limit``, only the latest ``limit``."""
        limit = resolve_session_limit(limit, self.session_settings)
        records = await self._run(lambda engine: self._load(engine, limit))
        return [_item(from_turn(record)) for record in records]

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        """Append ``items`` as the session's next turns (all or none)."""
        try:
            turns = [to_turn(item, index) for index, item in enumerate(items)]
        except InvalidInput as exc:
            raise UserError(exc.message) from exc
        if turns:
            await self._run(lambda engine: self._append(engine, turns))

    async def pop_item(self) -> TResponseInputItem | None:
        """Delete the latest turn and return its item (``None`` for an empty session)."""
        record = await self._run(self._pop)
        return None if record is None else _item(from_turn(record))

    async def clear_session(self) -> None:
        """Delete every turn of the session."""
        await self._run(self._clear)

    async def _run(self, operation: Callable[[AsyncMemory], Awaitable[R]]) -> R:
        try:
            return await self._bridge.arun(operation)
        except (InvalidInput, Conflict) as exc:
            raise UserError(exc.message) from exc

    async def _load(self, engine: AsyncMemory, limit: int | None) -> list[MessageRecord]:
        if limit is not None:
            latest: list[MessageRecord] = await engine.list_messages(
                **self._scope(), limit=limit, newest_first=True
            )
            return latest[::-1]
        return await session_turns(engine, **self._scope())

    async def _append(self, engine: AsyncMemory, turns: list[dict[str, Any]]) -> None:
        await engine.add_messages(turns, **self._scope())

    async def _pop(self, engine: AsyncMemory) -> MessageRecord | None:
        latest: list[MessageRecord] = await engine.list_messages(
            **self._scope(), limit=1, newest_first=True
        )
        if not latest:
            return None
        await engine.messages.delete(self._mnemo_scope(engine), latest[0].id)
        return latest[0]

    async def _clear(self, engine: AsyncMemory) -> None:
        await engine.messages.delete_session(self._mnemo_scope(engine))

    def _scope(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "session_id": self.session_id, "agent_id": self.agent_id}

    def _mnemo_scope(self, engine: AsyncMemory) -> Any:
        return engine.scope(self.user_id, agent_id=self.agent_id, session_id=self.session_id)


def _item(value: dict[str, Any]) -> TResponseInputItem:
    return value  # type: ignore[return-value]  # a TypedDict union: the stored item's own shape
