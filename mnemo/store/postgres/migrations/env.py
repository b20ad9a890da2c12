"""Alembic's environment: runs revisions on the connection ``migrate.py`` hands over."""

from alembic import context

#: On Citus, DDL on distributed tables runs over several connections per worker unless
#: told otherwise, and a later function command in the same transaction is then refused
#: ("a parallel operation on a distributed table"): revisions run sequentially there.
CITUS_SEQUENTIAL = (
    "SELECT set_config('citus.multi_shard_modify_mode', 'sequential', true)"
    " FROM pg_extension WHERE extname = 'citus'"
)

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    connection.exec_driver_sql(CITUS_SEQUENTIAL)
    context.run_migrations()
