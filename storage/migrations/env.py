"""Alembic environment: runs migrations with the blocking driver for the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.db import install_sqlite_pragmas, sync_url

config = context.config
target_metadata = SQLModel.metadata
LOCK_KEY = 0x6265_7374  # 'best': the advisory lock that serialises migrations


def run_migrations() -> None:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(sync_url(str(url)))
    if engine.dialect.name == "sqlite":
        install_sqlite_pragmas(engine)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=engine.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if engine.dialect.name == "postgresql":
                # Workers of a fleet start together and each migrates on start: one at a
                # time (the lock lasts until this transaction commits); the others then
                # find the database at head and do nothing.
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            context.run_migrations()
    engine.dispose()


run_migrations()
