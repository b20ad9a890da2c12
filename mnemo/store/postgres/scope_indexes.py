"""Vector indexes of their own for very large scopes.

An exact scan reads every vector of a user's scope, so its cost grows with how
long someone has used the app. Below ``SearchConfig.indexed_scope_rows`` rows
that is a few milliseconds and exact; above it a user gets an HNSW index of their
own: a partial index whose predicate names the tenant, the user and the
embedding model as literals (``embedding::vector(<dim>)``, since the column has
no fixed dimension). A search repeats that predicate, so the planner walks only
this user's graph. One global index would not do: a user's rows are a tiny part
of it, and a filtered graph walk degrades as the filter gets more selective.

``scope_indexes`` registers each built index with the scope's size and mean
text length as of the build (BM25's N and avgdl for searches through it). The
index is built ``CONCURRENTLY`` by a maintenance job, so writes and searches go
on; a build that failed part-way leaves an invalid index, which the next build
drops. Many thousands of partial indexes would slow planning on their table, so
the threshold is meant for the few very long histories, not for every user.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from psycopg import sql

from mnemo.core.records import Scope
from mnemo.errors import InvalidInput, StoreUnavailable
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.queries import query

logger = logging.getLogger(__name__)

#: Tables whose scopes may get an index of their own (per-user rows with vectors).
INDEXED_TABLES = ("memories", "messages")


@dataclass(frozen=True, slots=True)
class ScopeIndex:
    """A registered index of one scope's rows of one table."""

    table: str
    name: str
    model: str
    dimensions: int
    row_count: int
    avg_doc_len: float


def index_name(tenant_id: str, user_id: str, table: str) -> str:
    """A stable identifier for the index of one scope (fits PostgreSQL's 63 bytes)."""
    digest = hashlib.sha256(f"{tenant_id}\x00{user_id}".encode()).hexdigest()[:20]
    return f"mnemo_scope_{table}_{digest}"


def index_predicate(scope: Scope, table_alias: str, model: str) -> sql.Composable:
    """The partial index's predicate as literals, over ``table_alias`` (or bare columns)."""
    prefix = sql.SQL(f"{table_alias}.") if table_alias else sql.SQL("")
    return sql.SQL(" AND ").join(
        sql.SQL("{}{} = {}").format(prefix, sql.Identifier(column), sql.Literal(value))
        for column, value in (
            ("tenant_id", scope.tenant_id),
            ("user_id", scope.user_id),
            ("embedding_model", model),
        )
    )


class ScopeIndexStore:
    """Builds, finds and drops the per-scope vector indexes."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def lookup(self, scope: Scope, table: str) -> ScopeIndex | None:
        params = {"tenant": scope.tenant_id, "user": scope.user_id, "table": table}
        rows = await self._db.fetch(
            query("scope_indexes", "lookup"), params, tenant_id=scope.tenant_id
        )
        if not rows:
            return None
        row = rows[0]
        return ScopeIndex(
            table=table,
            name=row["index_name"],
            model=row["model"],
            dimensions=row["dimensions"],
            row_count=row["row_count"],
            avg_doc_len=row["avg_doc_len"],
        )

    async def build(self, scope: Scope, table: str, *, model: str, dimensions: int) -> ScopeIndex:
        """Build (or rebuild) the scope's index and register it.

        Needs the right to create indexes on ``table`` (the schema owner); the REST
        service's role lacks it, so builds run in the worker.
        """
        self._check_table(table)
        name = index_name(scope.tenant_id, scope.user_id, table)
        identifier = sql.Identifier(name)
        valid = await self._db.fetch(query("scope_indexes", "index_valid"), {"name": name})
        if valid and not valid[0]["valid"]:
            await self._db.execute(query("scope_indexes", "drop_index").format(name=identifier))
        await self._db.execute(
            query("scope_indexes", "create_index").format(
                name=identifier,
                table=sql.Identifier(table),
                dim=sql.Literal(dimensions),
                predicate=index_predicate(scope, "", model),
            )
        )
        params = {
            "tenant": scope.tenant_id,
            "user": scope.user_id,
            "table": table,
            "name": name,
            "model": model,
            "dim": dimensions,
        }
        statement = query("scope_indexes", "register").format(table=sql.Identifier(table))
        await self._db.execute(statement, params, tenant_id=scope.tenant_id)
        found = await self.lookup(scope, table)
        if found is None:  # pragma: no cover - registered just above
            raise StoreUnavailable(f"index {name} was built but could not be registered")
        return found

    async def drop_scope(self, scope: Scope) -> list[str]:
        """Unregister and drop every index of the scope; the names dropped."""
        params = {"tenant": scope.tenant_id, "user": scope.user_id}
        rows = await self._db.fetch(
            query("scope_indexes", "unregister"), params, tenant_id=scope.tenant_id
        )
        names = [row["index_name"] for row in rows]
        for name in names:
            await self._drop(name)
        return names

    async def large_scopes(self, table: str, min_rows: int) -> list[tuple[Scope, int]]:
        """Scopes of ``table`` with at least ``min_rows`` rows and no index yet."""
        self._check_table(table)
        statement = query("scope_indexes", "large_scopes").format(table=sql.Identifier(table))
        rows = await self._db.fetch(statement, {"min_rows": min_rows, "table": table})
        return [(Scope(r["tenant_id"], r["user_id"]), int(r["rows"])) for r in rows]

    async def drop_orphans(self) -> list[str]:
        """Drop scope indexes no registry row names (their user was deleted)."""
        rows = await self._db.fetch(query("scope_indexes", "orphan_indexes"))
        names = [row["name"] for row in rows]
        for name in names:
            await self._drop(name)
        return names

    async def _drop(self, name: str) -> None:
        await self._db.execute(
            query("scope_indexes", "drop_index").format(name=sql.Identifier(name))
        )

    @staticmethod
    def _check_table(table: str) -> None:
        if table not in INDEXED_TABLES:
            raise InvalidInput(f"scopes of {table!r} are not indexed; use one of {INDEXED_TABLES}")
