"""``mnemo_append_turns`` as revision 0012 leaves it (see that revision)."""

from __future__ import annotations

import importlib

_REWRITES = (
    ("    v_seq bigint;\nBEGIN", "    v_seq bigint;\n    v_inserted integer;\nBEGIN"),
    ("    INSERT INTO messages AS m (", "    WITH inserted AS (INSERT INTO messages AS m ("),
    (
        "    ) t;\n\n    -- For extraction",
        "    ) t RETURNING 1)\n    SELECT count(*) INTO v_inserted FROM inserted;\n\n"
        "    -- For extraction",
    ),
)


def returning_append_turns() -> str:
    """Revision 0010's function, its turns inserted by a WITH ... RETURNING."""
    text: str = importlib.import_module(
        "mnemo.store.postgres.migrations.versions.0010_append_turns"
    ).APPEND_TURNS
    for old, new in _REWRITES:
        if text.count(old) != 1:
            raise RuntimeError(f"mnemo_append_turns changed; cannot rewrite {old!r}")
        text = text.replace(old, new)
    return text
