"""Named SQL queries, loaded once from the ``.sql`` files beside this module.

A file holds several queries, each introduced by a ``-- name: <query_name>``
line. Queries that need a dynamic part (a WHERE fragment built from filters)
carry ``{placeholders}`` that are filled with ``psycopg.sql`` objects only.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from psycopg import sql

_HEADER = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


@functools.cache
def load(group: str) -> dict[str, str]:
    """The queries of ``sql/<group>.sql`` by name."""
    text = resources.files("mnemo.store.postgres").joinpath("sql", f"{group}.sql").read_text()
    parts = _HEADER.split(text)[1:]
    return {name: body.strip() for name, body in zip(parts[::2], parts[1::2], strict=True)}


def query(group: str, name: str) -> sql.SQL:
    """One named query as a ``psycopg.sql.SQL`` object."""
    return sql.SQL(load(group)[name])
