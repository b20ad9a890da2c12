"""How a LangGraph item lives in mnemo: one memory of the user its namespace maps to.

**Scope.** The tenant is the engine's (or the store's ``tenant_id``). The user is
the store's fixed ``user_id``, or, with ``user_label=i``, the namespace's label at
position ``i`` (``("memories", "{user_id}")`` takes ``user_label=1``). A namespace
without that label is refused, so every read and write names one user and no
search crosses users, let alone tenants.

**Memory.** The item is a pinned note: notes are what reconciliation and clean-up
never touch, and pinning keeps consolidation from merging two items into one.
Its ``content`` is the text of its index fields (LangGraph's default ``["$"]``:
the whole value as JSON), embedded and full-text indexed by mnemo; its
``metadata["langgraph"]`` holds the namespace (as a list, plus each label under
its position for filters), the key and the value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langgraph.store.base import InvalidNamespaceError, Item, SearchItem, get_text_at_path

from mnemo.core.records import MemoryRecord, SearchHit
from mnemo.errors import ConfigurationError, InvalidInput

METADATA_KEY = "langgraph"
ALL_ITEMS = {f"{METADATA_KEY}.key": {"$exists": True}}
#: Leaves out items put with ``index=False`` (a query never returns them).
INDEXED_ONLY = {f"{METADATA_KEY}.indexed": {"$ne": False}}
_FILTER_OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte"})


@dataclass(frozen=True, slots=True)
class NamespaceScope:
    """Which mnemo user a namespace belongs to (see the module docs)."""

    user_id: str | None = None
    user_label: int | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.user_label is None):
            raise ConfigurationError("give the store either user_id or user_label, not both")
        label = self.user_label
        if label is not None and (isinstance(label, bool) or not isinstance(label, int)):
            raise ConfigurationError(f"user_label must be a position, got {label!r}")
        if label is not None and label < 0:
            raise ConfigurationError(f"user_label must be 0 or more, got {label}")

    def user_of(self, namespace: Sequence[str]) -> str:
        """The user the namespace (or namespace prefix) names; ``InvalidNamespaceError``
        if it names none."""
        if self.user_id is not None:
            return self.user_id
        label = self.user_label or 0
        if len(namespace) <= label or namespace[label] == "*":
            raise InvalidNamespaceError(
                f"namespace {tuple(namespace)} has no user at position {label}: this store "
                "keeps each user's items apart, so every call names the user"
            )
        return namespace[label]


@dataclass(frozen=True, slots=True)
class IndexFields:
    """Which parts of a value are the memory's text (LangGraph's ``index["fields"]``)."""

    fields: tuple[str, ...] = ("$",)

    @classmethod
    def from_config(cls, index: Mapping[str, Any] | None) -> IndexFields:
        if index is None:
            return cls()
        unknown = set(index) - {"fields"}
        if unknown:
            raise ConfigurationError(
                "index takes only 'fields' (mnemo embeds with its own embedder); "
                f"got {sorted(unknown)}"
            )
        fields = index.get("fields") or ["$"]
        return cls(tuple(fields))

    def text(self, value: Mapping[str, Any], fields: Sequence[str] | None = None) -> str:
        """The text mnemo embeds and indexes for ``value``."""
        texts = [t for path in fields or self.fields for t in get_text_at_path(value, path)]
        return "\n".join(texts) or json.dumps(value, sort_keys=True, ensure_ascii=False)


def check_value(value: object) -> None:
    """``InvalidInput`` unless ``value`` is a JSON object (what a store item holds)."""
    if not isinstance(value, Mapping):
        raise InvalidInput(f"a store value must be a dict, got {type(value).__name__}")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"a store value must be JSON-serialisable: {exc}") from None


def item_metadata(
    namespace: Sequence[str], key: str, value: Mapping[str, Any], *, indexed: bool
) -> dict[str, Any]:
    """``metadata`` of the memory holding an item."""
    record: dict[str, Any] = {
        "namespace": list(namespace),
        "path": {str(i): label for i, label in enumerate(namespace)},
        "depth": len(namespace),
        "key": key,
        "value": dict(value),
    }
    if not indexed:
        record["indexed"] = False
    return {METADATA_KEY: record}


def item_filter(namespace: Sequence[str], key: str) -> dict[str, Any]:
    """The mnemo filter selecting the memory of exactly this item."""
    return {
        **prefix_filter(namespace),
        f"{METADATA_KEY}.depth": len(namespace),
        f"{METADATA_KEY}.key": key,
    }


def prefix_filter(prefix: Sequence[str]) -> dict[str, Any]:
    """Items whose namespace starts with ``prefix`` (``"*"`` matches any label)."""
    conditions: dict[str, Any] = dict(ALL_ITEMS)
    for position, label in enumerate(prefix):
        if label != "*":
            conditions[f"{METADATA_KEY}.path.{position}"] = label
    if prefix:
        conditions[f"{METADATA_KEY}.depth"] = {"$gte": len(prefix)}
    return conditions


def value_filter(filter: Mapping[str, Any] | None) -> dict[str, Any]:
    """LangGraph's filter on values as a mnemo metadata filter."""
    conditions: dict[str, Any] = {}
    for field, wanted in (filter or {}).items():
        if isinstance(wanted, Mapping) and any(str(k).startswith("$") for k in wanted):
            unknown = set(wanted) - _FILTER_OPERATORS
            if unknown:
                raise InvalidInput(f"filter on {field!r}: unsupported operators {sorted(unknown)}")
        conditions[f"{METADATA_KEY}.value.{field}"] = wanted
    return conditions


def to_item(record: MemoryRecord) -> Item:
    """The LangGraph item a memory holds."""
    stored = record.metadata[METADATA_KEY]
    return Item(
        namespace=tuple(stored["namespace"]), key=stored["key"], value=stored["value"],
        created_at=record.created_at, updated_at=record.updated_at,
    )  # fmt: skip


def to_search_item(record: MemoryRecord) -> SearchItem:
    """The item as a search result; a ranked hit's ``score`` comes along."""
    stored = record.metadata[METADATA_KEY]
    score = record.score if isinstance(record, SearchHit) else None
    return SearchItem(
        namespace=tuple(stored["namespace"]), key=stored["key"], value=stored["value"],
        created_at=record.created_at, updated_at=record.updated_at, score=score,
    )  # fmt: skip


def namespace_of(record: MemoryRecord) -> tuple[str, ...]:
    return tuple(record.metadata[METADATA_KEY]["namespace"])
