"""Compile scopes and metadata filters into SQL fragments over the alias ``m``.

One scope builder serves every scoped table; ``scope_fragment`` adds the memory
conditions (kind, status, validity), ``message_fragment`` the message ones (role, time).

Every value travels as a query parameter; identifiers are fixed. The fragment
and its parameters are returned together so callers cannot mix them up.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, LiteralString

from psycopg import sql
from psycopg.types.json import Jsonb

from mnemo.core.filters import AllOf, Condition, Filter, Negation
from mnemo.core.records import Scope

_COMPARATORS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


@dataclass
class Fragment:
    """A piece of SQL and the named parameters it uses."""

    sql: sql.Composable
    params: dict[str, Any] = field(default_factory=dict)

    def and_(self, condition: LiteralString, **params: Any) -> Fragment:
        """This fragment AND a fixed ``condition`` using the named ``params``."""
        joined = sql.SQL("{} AND {}").format(self.sql, sql.SQL(condition))
        return Fragment(joined, {**self.params, **params})


def scope_fragment(
    scope: Scope,
    *,
    kinds: Sequence[str] | None = None,
    filters: Filter | None = None,
    as_of: datetime | None = None,
    include_superseded: bool = False,
) -> Fragment:
    """The WHERE condition selecting a scope's memories, narrowed as asked."""
    where = _scope_conditions(scope)
    if kinds:
        where.add("m.kind = ANY(%(kinds)s::text[])", kinds=list(kinds))
    if as_of is not None:
        where.add(
            "m.created_at <= %(as_of)s AND coalesce(m.valid_from, m.created_at) <= %(as_of)s"
            " AND (m.valid_to IS NULL OR m.valid_to > %(as_of)s)",
            as_of=as_of,
        )
    elif not include_superseded:
        where.add("m.status = 'active'")
    return where.with_filter(filters).fragment()


def message_fragment(
    scope: Scope,
    *,
    roles: Sequence[str] | None = None,
    filters: Filter | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    exclude_session: str | None = None,
) -> Fragment:
    """The WHERE condition selecting a scope's conversation messages, narrowed as asked.

    ``since`` is inclusive and ``until`` exclusive, on ``created_at``;
    ``exclude_session`` leaves one session's turns out (the other sessions' turns).
    """
    where = _scope_conditions(scope)
    if exclude_session is not None:
        where.add("m.session_id <> %(other_than)s", other_than=exclude_session)
    if roles:
        where.add("m.role = ANY(%(roles)s::text[])", roles=list(roles))
    if since is not None:
        where.add("m.created_at >= %(since)s", since=since)
    if until is not None:
        where.add("m.created_at < %(until)s", until=until)
    return where.with_filter(filters).fragment()


class _Conditions:
    """Conditions joined by AND, and the parameters they use."""

    def __init__(self) -> None:
        self.parts: list[sql.Composable] = []
        self.params: dict[str, Any] = {}

    def add(self, condition: LiteralString, **params: Any) -> None:
        self.parts.append(sql.SQL(condition))
        self.params.update(params)

    def with_filter(self, filters: Filter | None) -> _Conditions:
        if filters is not None:
            compiled = compile_filter(filters, names=_names())
            self.parts.append(compiled.sql)
            self.params.update(compiled.params)
        return self

    def fragment(self) -> Fragment:
        return Fragment(sql.SQL(" AND ").join(self.parts), self.params)


def _scope_conditions(scope: Scope) -> _Conditions:
    """Tenant and user, plus agent and session when the scope names them."""
    where = _Conditions()
    where.add("m.tenant_id = %(tenant)s", tenant=scope.tenant_id)
    where.add("m.user_id = %(user)s", user=scope.user_id)
    if scope.agent_id is not None:
        where.add("m.agent_id = %(agent)s", agent=scope.agent_id)
    if scope.session_id is not None:
        where.add("m.session_id = %(session)s", session=scope.session_id)
    return where


def compile_filter(node: Filter, *, names: Iterator[str]) -> Fragment:
    """SQL for a parsed metadata filter."""
    if isinstance(node, Condition):
        return _condition(node, names)
    if isinstance(node, Negation):
        inner = compile_filter(node.part, names=names)
        return Fragment(sql.SQL("NOT ({})").format(inner.sql), inner.params)
    children = [compile_filter(part, names=names) for part in node.parts]
    glue = " AND " if isinstance(node, AllOf) else " OR "
    params: dict[str, Any] = {}
    for child in children:
        params.update(child.params)
    joined = sql.SQL(glue).join(sql.SQL("({})").format(c.sql) for c in children)
    return Fragment(sql.SQL("({})").format(joined), params)


def _condition(cond: Condition, names: Iterator[str]) -> Fragment:
    value_name, path_name = next(names), next(names)
    value = sql.Placeholder(value_name)
    field_json = sql.SQL("(m.metadata #> {})").format(sql.Placeholder(path_name))
    params: dict[str, Any] = {path_name: list(cond.path)}
    op = cond.op
    if op in ("$eq", "$ne"):
        params[value_name] = Jsonb(_nest(cond.path, cond.value))
        test = sql.SQL("m.metadata @> {}::jsonb").format(value)
        return Fragment(test if op == "$eq" else sql.SQL("NOT ({})").format(test), params)
    if op in ("$in", "$nin"):
        params[value_name] = [Jsonb(v) for v in cond.value]
        test = sql.SQL("{} = ANY({}::jsonb[])").format(field_json, value)
        if op == "$nin":
            test = sql.SQL("coalesce(NOT ({}), true)").format(test)
        return Fragment(test, params)
    if op == "$exists":
        test = sql.SQL("{} IS NOT NULL").format(field_json)
        return Fragment(test if cond.value else sql.SQL("NOT ({})").format(test), params)
    if op == "$contains":
        params[value_name] = like_pattern(cond.value)
        text = sql.SQL("(m.metadata #>> {})").format(sql.Placeholder(path_name))
        return Fragment(sql.SQL("{} ILIKE {}").format(text, value), params)
    params[value_name] = Jsonb(cond.value)
    json_type = "number" if isinstance(cond.value, (int, float)) else "string"
    test = sql.SQL("(jsonb_typeof({field}) = {kind} AND {field} {cmp} {value}::jsonb)").format(
        field=field_json,
        kind=sql.Literal(json_type),
        cmp=sql.SQL(_COMPARATORS[op]),
        value=value,
    )
    return Fragment(test, params)


def _nest(path: tuple[str, ...], value: Any) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


def like_pattern(text: str) -> str:
    """An ``(I)LIKE`` pattern matching ``text`` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _names() -> Iterator[str]:
    return (f"f{i}" for i in itertools.count())
