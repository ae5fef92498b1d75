"""staff.protection: the administrator's view of data protection: keys, retention, backups, erasures (read-only)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Blueprint, current_app, render_template

from .. import backup
from ..auth import requires
from ..db import get_store, sqlite_path
from ..models import utcnow
from ..retention.purge import RetentionError, retention_days
from ..store import encrypted
from ..store import retention as retention_store

bp = Blueprint("protection", __name__, url_prefix="/admin")
EVENTS = ("drafts_purged", "retention_purge", "submission_erased", "backup_made", "backup_restored", "key_rotated")
BACKUP_STALE = dt.timedelta(hours=36)


def _backups() -> list[tuple[str, dt.datetime, int]]:
    if sqlite_path(current_app.config["DATABASE_URL"]) is None:
        return []
    folder = Path(current_app.config.get("BACKUP_DIR") or Path(current_app.instance_path) / "backups")
    found = [(p.name, dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC), p.stat().st_size)
             for p in folder.glob(backup.PATTERN)]
    return sorted(found, key=lambda b: b[1], reverse=True)


@bp.get("/data-protection")
@requires("protection")
def overview():
    store, keyring = get_store(), current_app.extensions["intake.keyring"]
    tables = {model.__tablename__: encrypted.counts_by_key(store, model) for model in encrypted.models()}
    unfinished = sum(n for counts in tables.values() for key_id, n in counts.items() if key_id != keyring.active_id)
    try:
        retention, retention_error = retention_days(current_app.config), ""
    except RetentionError as exc:
        retention, retention_error = None, str(exc)
    backups = _backups()
    return render_template(
        "staff/protection.html", keyring=keyring, tables=tables, unfinished=unfinished, retention=retention,
        retention_error=retention_error, backups=backups[:5], backup_count=len(backups),
        backup_stale=not backups or utcnow() - backups[0][1] > BACKUP_STALE,
        sqlite=sqlite_path(current_app.config["DATABASE_URL"]) is not None,
        events=retention_store.last_events(store, EVENTS),
    )
