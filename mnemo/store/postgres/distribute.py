"""Spread mnemo's schema over a Citus cluster: ``mnemo db distribute``.

Every table with a ``user_id`` column is distributed by ``user_id`` and colocated with
``memories``, so all of one user's rows live on one shard and every per-user query runs
on one node. The few tables every node must read whole are reference tables; the job
queue (procrastinate's tables) and Alembic's version table stay on the coordinator.
Tables are found in the catalog, not listed here, so a table a later revision adds is
distributed too; a table that is neither user-scoped nor classified below stops the
command (``UnsupportedSchema``) instead of being left behind silently.

Distributing is idempotent: tables Citus already holds the right way are skipped. The
service's role ``mnemo_service`` is allowed to log in, because Citus reaches the workers
as the current role (the nodes must then accept it: trust, a password in
``pg_dist_authinfo`` or a certificate); see docs/scaling.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from mnemo.errors import CitusMissing, StoreUnavailable, UnsupportedSchema
from mnemo.store.postgres.errors import describe_dsn, wrapped_errors_sync
from mnemo.store.postgres.queries import load

logger = logging.getLogger(__name__)

ANCHOR = "memories"
DISTRIBUTION_COLUMN = "user_id"
# Read whole by every node (a tenant's keys, the store's settings): one copy per node.
REFERENCE_TABLES = ("tenants", "api_keys", "mnemo_meta")
# Only the coordinator uses them: the job queue and Alembic's bookkeeping.
LOCAL_TABLES = ("alembic_version",)
LOCAL_PREFIXES = ("procrastinate_",)

_SQL = load("distribute")


@dataclass(frozen=True)
class DistributionPlan:
    """How each of mnemo's tables is to be held on a Citus cluster."""

    reference: tuple[str, ...]
    distributed: tuple[str, ...]  # in creation order: ``memories`` first, parents before children
    local: tuple[str, ...]


@dataclass
class DistributionReport:
    """What ``distribute`` did: the tables it changed and the ones already in place."""

    citus_version: str
    workers: int
    shard_count: int
    reference: list[str] = field(default_factory=list)
    distributed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    local: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.reference or self.distributed)


def classify(table: str, *, has_user_id: bool) -> str:
    """``reference``, ``local`` or ``distributed`` for one of mnemo's tables.

    Raises ``UnsupportedSchema`` for a table mnemo does not know how to place.
    """
    if table in REFERENCE_TABLES:
        return "reference"
    if table in LOCAL_TABLES or table.startswith(LOCAL_PREFIXES):
        return "local"
    if has_user_id:
        return "distributed"
    raise UnsupportedSchema(
        f"table {table!r} has no user_id column and is not one mnemo places as a reference "
        f"or coordinator-local table ({', '.join(REFERENCE_TABLES + LOCAL_TABLES)}, "
        f"procrastinate_*): mnemo cannot distribute a schema with it. Move it to another "
        "schema, or classify it in mnemo/store/postgres/distribute.py"
    )


def plan(conn: psycopg.Connection[Any]) -> DistributionPlan:
    """Classify every table of the connection's schema (needs no Citus)."""
    tables = conn.execute(_SQL["tables"]).fetchall()
    if ANCHOR not in {name for name, _ in tables}:
        raise UnsupportedSchema(
            "this database has no mnemo schema (no memories table): run `mnemo db upgrade` "
            "before `mnemo db distribute`"
        )
    kinds: dict[str, list[str]] = {"reference": [], "distributed": [], "local": []}
    for name, has_user_id in tables:
        kinds[classify(name, has_user_id=has_user_id)].append(name)
    edges = [(child, parent) for child, parent in conn.execute(_SQL["foreign_keys"])]
    return DistributionPlan(
        reference=tuple(_parents_first(kinds["reference"], edges)),
        distributed=tuple(_parents_first(kinds["distributed"], edges, first=ANCHOR)),
        local=tuple(kinds["local"]),
    )


def distribute(database_url: str, *, shard_count: int | None = None) -> DistributionReport:
    """Distribute mnemo's schema in the Citus database at ``database_url`` (its coordinator).

    ``shard_count`` applies when ``memories`` is distributed for the first time (Citus's
    ``citus.shard_count``, 32 by default, when not given). Raises ``CitusMissing`` when
    the database has no citus extension and ``UnsupportedSchema`` when a table is placed
    in a way mnemo does not support (or not migrated yet). Safe to run again.
    """
    if shard_count is not None and not 1 <= shard_count <= 64000:
        raise UnsupportedSchema(f"shard_count must be between 1 and 64000, not {shard_count}")
    try:
        conn = psycopg.connect(database_url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise StoreUnavailable(
            f"cannot connect to {describe_dsn(database_url)}: {str(exc).strip()}"
        ) from exc
    with conn, wrapped_errors_sync():
        return distribute_connection(conn, database_url, shard_count=shard_count)


def distribute_connection(
    conn: psycopg.Connection[Any], database_url: str, *, shard_count: int | None = None
) -> DistributionReport:
    """``distribute`` on an open autocommit connection to the coordinator."""
    version = conn.execute(_SQL["citus_installed"]).fetchone()
    if version is None:
        raise CitusMissing(
            f"the database {describe_dsn(database_url)} has no citus extension: "
            "load citus (shared_preload_libraries = 'citus'), run CREATE EXTENSION citus in "
            "this database on the coordinator and every worker, add the workers "
            "(citus_add_node), then run `mnemo db distribute` again"
        )
    wanted = plan(conn)
    current = _citus_tables(conn)
    _check_shape(wanted, current)
    row = conn.execute(_SQL["worker_count"]).fetchone()
    report = DistributionReport(
        citus_version=version[0], workers=int(row[0]) if row else 0, shard_count=0
    )
    report.local = list(wanted.local)
    for table in wanted.reference:
        if table in current:
            report.already.append(table)
            continue
        logger.info("making %s a reference table", table)
        conn.execute(_SQL["create_reference_table"], {"table": table})
        report.reference.append(table)
    for table in wanted.distributed:
        if table in current:
            report.already.append(table)
            continue
        logger.info("distributing %s by %s", table, DISTRIBUTION_COLUMN)
        if table == ANCHOR:
            count = shard_count if shard_count is not None else _default_shard_count(conn)
            conn.execute(_SQL["create_anchor_table"], {"table": table, "shards": count})
        else:
            conn.execute(_SQL["create_colocated_table"], {"table": table, "anchor": ANCHOR})
        report.distributed.append(table)
    # Distributing copies a table's rows to its shards and leaves the originals behind on
    # the coordinator, hidden; drop them once every table (and so every foreign key) moved.
    for table in [*report.reference, *report.distributed]:
        conn.execute(_SQL["truncate_local_data"], {"table": table})
    _let_service_role_reach_workers(conn)
    shards = conn.execute(_SQL["shard_count"], {"table": ANCHOR}).fetchone()
    report.shard_count = int(shards[0]) if shards else 0
    return report


def _let_service_role_reach_workers(conn: psycopg.Connection[Any]) -> None:
    """Citus opens its connections to the workers as the current role, so the service's
    role (``SET ROLE mnemo_service``) must be allowed to log in there."""
    row = conn.execute(_SQL["service_role_login"]).fetchone()
    if row is not None and not row[0]:
        conn.execute("ALTER ROLE mnemo_service LOGIN")


def is_distributed(conn: psycopg.Connection[Any]) -> bool:
    """Whether ``memories`` is a Citus distributed table in this database."""
    if conn.execute(_SQL["citus_installed"]).fetchone() is None:
        return False
    return _citus_tables(conn).get(ANCHOR, ("", None, None))[0] == "distributed"


def _citus_tables(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, str | None, int]]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_SQL["citus_tables"]).fetchall()
    return {r["name"]: (r["kind"], r["column_name"], r["colocation_id"]) for r in rows}


def _check_shape(wanted: DistributionPlan, current: dict[str, tuple[str, str | None, int]]) -> None:
    """Refuse tables Citus already holds in a way that is not mnemo's."""
    anchor = current.get(ANCHOR)
    for table in wanted.reference:
        if table in current and current[table][0] != "reference":
            raise UnsupportedSchema(
                f"table {table!r} is a Citus {current[table][0]} table; mnemo needs it as "
                f"a reference table (undistribute_table('{table}') first)"
            )
    for table in wanted.distributed:
        if table not in current:
            continue
        kind, column, colocation = current[table]
        if kind != "distributed" or column != DISTRIBUTION_COLUMN:
            how = f"distributed by {column}" if kind == "distributed" else kind
            raise UnsupportedSchema(
                f"table {table!r} is already a Citus {how} table; mnemo needs every "
                f"user-scoped table distributed by {DISTRIBUTION_COLUMN} "
                f"(undistribute_table('{table}') first)"
            )
        if anchor is not None and colocation != anchor[2]:
            raise UnsupportedSchema(
                f"table {table!r} is distributed by {DISTRIBUTION_COLUMN} but not colocated "
                f"with {ANCHOR}; one user's rows must share a shard "
                f"(alter_distributed_table('{table}', colocate_with => '{ANCHOR}'))"
            )
    for table in wanted.local:
        if table in current and current[table][0] != "local":
            raise UnsupportedSchema(
                f"table {table!r} is a Citus {current[table][0]} table; mnemo keeps it on "
                f"the coordinator (undistribute_table('{table}') first)"
            )


def _default_shard_count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT current_setting('citus.shard_count')::int").fetchone()
    return int(row[0]) if row else 32


def _parents_first(
    tables: list[str], edges: list[tuple[str, str]], *, first: str | None = None
) -> list[str]:
    """``tables`` ordered so a table comes after every table it refers to."""
    members = set(tables)
    parents = {t: {p for c, p in edges if c == t and p in members} for t in tables}
    order: list[str] = []
    pending = sorted(tables, key=lambda t: (t != first, t))
    while pending:
        ready = next((t for t in pending if parents[t] <= set(order)), None)
        if ready is None:
            raise UnsupportedSchema(f"tables {pending} refer to each other in a cycle")
        order.append(ready)
        pending.remove(ready)
    return order
