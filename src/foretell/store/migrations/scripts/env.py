"""Alembic's entry point: migrate over one connection, holding the migration lock."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from foretell.store.migrations import LOCK_KEY

url: str = context.config.attributes["url"]

if context.is_offline_mode():  # `alembic upgrade --sql`: the SQL, for a DBA to run
    context.configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, transaction_per_migration=False)
            with context.begin_transaction():
                # held until this transaction commits; the version table is read after it,
                # so a process that waited sees the head its predecessor reached (DDL is
                # transactional in PostgreSQL: all of a migration or none of it)
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
                context.run_migrations()
    finally:
        engine.dispose()
