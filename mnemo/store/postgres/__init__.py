"""PostgreSQL: the server (embedded or external), the pool, migrations and queries."""
