"""Alembic revisions in plain SQL. ``HEAD`` must name the newest one (a test checks)."""

HEAD = "0014"
