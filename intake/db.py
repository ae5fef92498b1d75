"""Create the database engine and make SQLite safe for concurrent writers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # We emit BEGIN ourselves (below), so the driver must not.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", f"busy_timeout={BUSY_TIMEOUT_MS}", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A writer takes the lock up front, so two writers queue on busy_timeout
    # instead of one failing with "database is locked" half way through.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("intake_write") else "BEGIN")


def make_engine(url: str) -> Engine:
    """Return an engine for `url`; SQLite gets WAL, synchronous=FULL and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def init_app(app: Flask) -> None:
    """Create the engine and the store for `app`."""
    from .store import Store

    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["intake.store"] = Store(engine)


def get_store():
    """Return the Store of the current app."""
    return current_app.extensions["intake.store"]
