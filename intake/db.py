"""Create the database engine, make SQLite safe for concurrent writers, and give it the app's data keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from .crypto import Keyring, attach, files

BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # We emit BEGIN ourselves (below), so the driver must not.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    # secure_delete: a deleted row's bytes are overwritten with zeros, not left in free pages (erasure).
    for pragma in ("journal_mode=WAL", "synchronous=FULL", f"busy_timeout={BUSY_TIMEOUT_MS}", "foreign_keys=ON",
                   "secure_delete=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A writer takes the lock up front, so two writers queue on busy_timeout
    # instead of one failing with "database is locked" half way through.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("intake_write") else "BEGIN")


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL, or None (another database, or in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(url: str, keyring: Keyring | None = None) -> Engine:
    """Return an engine for `url` that seals with `keyring`; SQLite gets WAL, synchronous=FULL and a busy timeout."""
    if make_url(url).get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True)
    else:
        if path := sqlite_path(url):
            # Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the same mode.
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                if each == path or each.exists():
                    files.create_private(each)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    if keyring is not None:
        attach(engine, keyring)
    return engine


def init_app(app: Flask) -> None:
    """Create the engine (with the app's keyring) and the store for `app`."""
    from .store import Store

    engine = make_engine(app.config["DATABASE_URL"], app.extensions["intake.keyring"])
    app.extensions["intake.store"] = Store(engine)


def get_store():
    """Return the Store of the current app."""
    return current_app.extensions["intake.store"]
