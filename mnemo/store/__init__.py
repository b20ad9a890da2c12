"""Storage: PostgreSQL (the source of truth) and caches."""
