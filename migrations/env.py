"""Alembic environment: the URL comes from the caller (intake.cli) or DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context

from intake.db import make_engine
from intake.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL", "sqlite:///output/intake.sqlite3")


def run_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = make_engine(url, config.attributes.get("keyring"))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild a table (copy, drop, rename); with foreign keys on, dropping a parent
            # table fails. SQLite only honours this outside a transaction, so it goes to the driver directly.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                raise RuntimeError("a migration left rows that break a foreign key; nothing was changed")
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
