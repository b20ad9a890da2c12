"""``mnemo_append_turns`` as revisions 0012 and 0014 leave it (see those revisions)."""

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
    return _rewritten(text, _REWRITES)


_SOURCE_REWRITES = (
    ("    p_created_ats timestamptz[], p_job",
     "    p_created_ats timestamptz[], p_sources jsonb[], p_job"),
    ("        embedding_model text, ledger_seq bigint",
     "        embedding_model text, source jsonb, ledger_seq bigint"),
    ("        embedding_model, tsv, doc_len, metadata, created_at\n",
     "        embedding_model, tsv, doc_len, metadata, created_at, source\n"),
    ("           t.metadata, coalesce(t.created_at, now())\n",
     "           t.metadata, coalesce(t.created_at, now()), t.source\n"),
    ("                    p_metadatas, p_created_ats, v_fresh)",
     "                    p_metadatas, p_created_ats, p_sources, v_fresh)"),
    ("                 tool_results, key, token_count, embedding, metadata, created_at, fresh)",
     "                 tool_results, key, token_count, embedding, metadata, created_at, source,\n"
     "                 fresh)"),
    ("           m.idempotency_key, m.embedding_model, v_seq",
     "           m.idempotency_key, m.embedding_model, m.source, v_seq"),
)  # fmt: skip


def source_append_turns() -> str:
    """Revision 0012's function, storing and returning each turn's ``source`` (0014)."""
    return _rewritten(returning_append_turns(), _SOURCE_REWRITES)


def _rewritten(text: str, rewrites: tuple[tuple[str, str], ...]) -> str:
    for old, new in rewrites:
        if text.count(old) != 1:
            raise RuntimeError(f"mnemo_append_turns changed; cannot rewrite {old!r}")
        text = text.replace(old, new)
    return text
