"""``MnemoStore``: LangGraph's ``BaseStore`` on mnemo memories (see ``items`` for the mapping)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    validate_op_namespace,
)

from mnemo.core.records import MemoryRecord
from mnemo.engine import AsyncMemory
from mnemo.errors import InvalidInput
from mnemo.integrations._bridge import Bridge
from mnemo.integrations.langgraph.items import (
    INDEXED_ONLY,
    IndexFields,
    NamespaceScope,
    check_value,
    item_filter,
    item_metadata,
    namespace_of,
    prefix_filter,
    to_item,
    to_search_item,
    value_filter,
)
from mnemo.memory import Memory

#: Memories read per query while listing namespaces (the engine's largest page).
PAGE = 1_000
#: Copies of one item tolerated (two racing first puts); the newest wins, the rest go.
MAX_COPIES = 10


class MnemoStore(BaseStore):
    """LangGraph's long-term store in mnemo: items are memories, search is mnemo's hybrid
    search (vector + full text, scored), namespaces map to users (``items``).

    ``MnemoStore(memory, user_id="alice")`` keeps every namespace in one user;
    ``MnemoStore(memory, user_label=1)`` reads the user from each namespace's second
    label, as LangMem's ``("memories", "{langgraph_user_id}")`` needs. ``index``
    takes LangGraph's ``{"fields": [...]}`` (mnemo embeds with its own embedder).
    TTLs are not supported (``supports_ttl`` is false). Sync methods need a
    ``Memory``; async ones work with either face.
    """

    supports_ttl = False

    def __init__(
        self,
        memory: Memory | AsyncMemory,
        *,
        user_id: str | None = None,
        user_label: int | None = None,
        tenant_id: str | None = None,
        index: Mapping[str, Any] | None = None,
    ) -> None:
        self._bridge = Bridge(memory, tenant_id=tenant_id)
        self._scope = NamespaceScope(user_id, user_label)
        self._index = IndexFields.from_config(index)

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        checked = self._checked(ops)
        return self._bridge.run(lambda engine: self._apply(engine, checked))

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        checked = self._checked(ops)
        return await self._bridge.arun(lambda engine: self._apply(engine, checked))

    def _checked(self, ops: Iterable[Op]) -> list[Op]:
        """The ops, refused before any of them runs if one is malformed."""
        checked = list(ops)
        for op in checked:
            validate_op_namespace(op)
            self._scope.user_of(_namespace_of(op))
            if isinstance(op, SearchOp):
                value_filter(op.filter)
            if isinstance(op, PutOp) and op.ttl is not None:
                raise NotImplementedError("MnemoStore does not support TTLs; put with ttl=None")
            if isinstance(op, PutOp) and op.value is not None:
                if not op.namespace:
                    raise InvalidInput("an item's namespace must not be empty")
                check_value(op.value)
        return checked

    async def _apply(self, engine: AsyncMemory, ops: list[Op]) -> list[Result]:
        """Each op in order, so a get after a put in one batch sees the put."""
        results: list[Result] = []
        for op in ops:
            if isinstance(op, GetOp):
                results.append(await self._get(engine, op))
            elif isinstance(op, SearchOp):
                results.append(await self._search(engine, op))
            elif isinstance(op, PutOp):
                await self._put(engine, op)
                results.append(None)
            else:
                results.append(await self._list_namespaces(engine, op))
        return results

    async def _copies(
        self, engine: AsyncMemory, namespace: tuple[str, ...], key: str
    ) -> list[MemoryRecord]:
        user = self._scope.user_of(namespace)
        return await engine.list(
            user_id=user, filters=item_filter(namespace, key), limit=MAX_COPIES
        )

    async def _get(self, engine: AsyncMemory, op: GetOp) -> Item | None:
        copies = await self._copies(engine, op.namespace, op.key)
        return to_item(copies[0]) if copies else None

    async def _put(self, engine: AsyncMemory, op: PutOp) -> None:
        copies = await self._copies(engine, op.namespace, op.key)
        if op.value is None:
            for copy in copies:
                await engine.delete(copy.id)
            return
        fields = op.index if isinstance(op.index, list) else None
        text = self._index.text(op.value, fields)
        metadata = item_metadata(op.namespace, op.key, op.value, indexed=op.index is not False)
        if not copies:
            user = self._scope.user_of(op.namespace)
            added = await engine.add(text, user_id=user, metadata=metadata)
            await engine.update(added.id, pinned=True)
            return
        newest, *older = copies
        content = None if text == newest.content else text  # unchanged text: no re-embedding
        await engine.update(newest.id, content, metadata=metadata)
        for copy in older:
            await engine.delete(copy.id)

    async def _search(self, engine: AsyncMemory, op: SearchOp) -> list[SearchItem]:
        user = self._scope.user_of(op.namespace_prefix)
        filters = {**prefix_filter(op.namespace_prefix), **value_filter(op.filter)}
        if op.query:
            filters.update(INDEXED_ONLY)
            hits = await engine.search(
                op.query, user_id=user, filters=filters, limit=op.offset + op.limit
            )
            return [to_search_item(hit) for hit in hits[op.offset :]]
        records = await engine.list(user_id=user, filters=filters, limit=op.limit, offset=op.offset)
        return [to_search_item(record) for record in records]

    async def _list_namespaces(
        self, engine: AsyncMemory, op: ListNamespacesOp
    ) -> list[tuple[str, ...]]:
        """The user's namespaces matching ``op``: one pass over the user's items (the
        prefix narrows it), so a namespace listing costs a scan of what it covers."""
        conditions = op.match_conditions or ()
        prefix = _prefix_of(op)
        user = self._scope.user_of(prefix)
        found: set[tuple[str, ...]] = set()
        offset = 0
        while True:
            page = await engine.list(
                user_id=user, filters=prefix_filter(prefix), limit=PAGE, offset=offset
            )
            found.update(namespace_of(record) for record in page)
            if len(page) < PAGE:
                break
            offset += PAGE
        matching = {
            ns[: op.max_depth] if op.max_depth is not None else ns
            for ns in found
            if all(_matches(c, ns) for c in conditions)
        }
        return sorted(matching)[op.offset : op.offset + op.limit]


def _namespace_of(op: Op) -> tuple[str, ...]:
    """The namespace (or prefix) that names the op's user."""
    if isinstance(op, (GetOp, PutOp)):
        return tuple(op.namespace)
    if isinstance(op, SearchOp):
        return tuple(op.namespace_prefix)
    return _prefix_of(op)


def _prefix_of(op: ListNamespacesOp) -> tuple[str, ...]:
    conditions = op.match_conditions or ()
    return tuple(next((c.path for c in conditions if c.match_type == "prefix"), ()))


def _matches(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    labels = namespace[: len(path)] if condition.match_type == "prefix" else namespace[-len(path) :]
    return all(want in ("*", have) for want, have in zip(path, labels, strict=True))
