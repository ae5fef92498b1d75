"""Database upkeep that erasure, encryption and backups rely on."""

from __future__ import annotations

import time

from . import Store

CHECKPOINT_TRIES = 20


def checkpoint(store: Store) -> bool:
    """SQLite: copy the WAL into the database file and truncate the WAL to zero bytes; True when done.

    With secure_delete on, a deleted or rewritten row's old bytes are zeroed in the pages written
    to the WAL; the checkpoint puts those pages into the database file, and the truncation removes
    the older page images still sitting in the WAL. Readers in the middle of a transaction can hold
    it back, so it is retried for a while. PostgreSQL: nothing to do here (see the README).
    """
    if store.engine.dialect.name != "sqlite":
        return True
    for _ in range(CHECKPOINT_TRIES):
        raw = store.engine.raw_connection()  # outside any transaction, which would hold the checkpoint back
        try:
            busy, _log, _done = raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            raw.close()
        if not busy:
            return True
        time.sleep(0.1)
    return False
