"""Backups of the SQLite database: a consistent online copy, sealed with the data key, checked by restoring it.

- backup: SQLite's backup API copies the database in one step inside one read transaction, so the
  copy is consistent while the app keeps writing (WAL readers never block writers). The copy is sealed
  (intake/crypto/files.py, context "backup") into <instance>/backups/intake-<UTC time>.sqlite3.enc, mode
  0600, then opened again into a temporary file: PRAGMA integrity_check, and every table's row count
  must equal the snapshot's. A backup that fails the check is deleted and the command fails.
- restore: the file is checked the same way first, and refused if its schema is newer than this code
  or its rows use a data key the keyring no longer has. A safety backup of the current database is made,
  then the restored pages are written into the live database through the backup API (SQLite's own
  locking, never a file copy over a database in use), the schema is upgraded and the event audited.

PostgreSQL: use pg_dump (README, "Backups").
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import audit
from .crypto import KeyringError, files
from .db import BUSY_TIMEOUT_MS, get_store, sqlite_path

CONTEXT = "backup"
PATTERN = "intake-*.sqlite3.enc"


class BackupError(RuntimeError):
    """The backup or restore cannot go ahead; the message says why and what to do."""


@dataclass
class Checked:
    counts: dict[str, int]
    revision: str | None
    key_ids: set[str]


def folder(app: Flask) -> Path:
    return files.private_dir(Path(app.config.get("BACKUP_DIR") or Path(app.instance_path) / "backups"))


def _database(app: Flask) -> Path:
    path = sqlite_path(app.config["DATABASE_URL"])
    if path is None:
        raise BackupError("The database is not an SQLite file. For PostgreSQL use pg_dump: see the README, “Backups”.")
    return path


def _inspect(conn: sqlite3.Connection) -> Checked:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in sorted(tables)}
    revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] if "alembic_version" in tables else None
    key_ids: set[str] = set()
    for table in tables:
        if any(col[1] == "key_id" for col in conn.execute(f'PRAGMA table_info("{table}")')):
            key_ids |= {r[0] for r in conn.execute(f'SELECT DISTINCT key_id FROM "{table}" WHERE key_id IS NOT NULL')}
    return Checked(counts, revision, key_ids)


def check(path: Path, keyring, work: Path, expected: dict[str, int] | None = None) -> Checked:
    """Open a sealed backup into a temporary file and check it; raise BackupError if anything is wrong."""
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        restored = Path(tmp) / "check.sqlite3"
        try:
            with open(path, "rb") as source, files.private_writer(restored) as out:
                for chunk in files.iter_open(source, keyring, CONTEXT):
                    out.write(chunk)
        except files.SealedFileError as exc:
            raise BackupError(f"{path.name} does not open: {exc}") from None
        except KeyringError as exc:
            raise BackupError(f"{path.name} cannot be decrypted: {exc}") from None
        conn = sqlite3.connect(restored)
        try:
            integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            if integrity != ["ok"]:
                raise BackupError(f"{path.name} failed the integrity check: {'; '.join(integrity[:5])}")
            checked = _inspect(conn)
        finally:
            conn.close()
    if expected is not None and checked.counts != expected:
        raise BackupError(f"{path.name} restored with other row counts than the snapshot: {checked.counts} ≠ {expected}")
    return checked


def make(app: Flask, label: str = "") -> tuple[Path, Checked]:
    """Back up the live SQLite database; return the sealed file and what the check found."""
    database, target_dir = _database(app), folder(app)
    keyring = app.extensions["intake.keyring"]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = target_dir / f"intake-{stamp}{'-' + label if label else ''}.sqlite3.enc"
    with tempfile.TemporaryDirectory(dir=target_dir) as tmp:  # 0700, inside the 0700 instance folder
        snapshot = Path(tmp) / "snapshot.sqlite3"
        files.create_private(snapshot)
        source = sqlite3.connect(database, timeout=BUSY_TIMEOUT_MS / 1000)
        copy = sqlite3.connect(snapshot)
        try:
            source.backup(copy)  # all pages in one step: one read transaction, one consistent moment
            copy.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
            expected = _inspect(copy).counts
        finally:
            copy.close()
            source.close()
        with open(snapshot, "rb") as plain, files.sealed_writer(target, keyring, CONTEXT) as sealed:
            shutil.copyfileobj(plain, sealed, 1 << 20)
    try:
        checked = check(target, keyring, target_dir, expected)
    except BackupError:
        target.unlink(missing_ok=True)
        raise
    return target, checked


def restore(app: Flask, path: Path) -> tuple[Checked, Path]:
    """Replace the live database's contents with the backup's; return what was restored and the safety backup."""
    from alembic.script import ScriptDirectory

    from .cli import alembic_config, upgrade_database
    from .crypto import rotation
    from .store import maintenance

    database, keyring = _database(app), app.extensions["intake.keyring"]
    checked = check(path, keyring, folder(app))
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config(app.config["DATABASE_URL"])).walk_revisions()}
    if checked.revision not in known:
        raise BackupError(f"{path.name} was made by a newer version of Intake (schema {checked.revision}); "
                          "upgrade Intake first, then restore it.")
    if missing := checked.key_ids - set(keyring.ids):
        raise BackupError(f"{path.name} holds rows sealed with data key(s) {', '.join(sorted(missing))}, which the "
                          "keyring does not have. Put the old key(s) back (INTAKE_DATA_KEYS or data_keys) first.")
    safety, _ = make(app, label="before-restore")
    with tempfile.TemporaryDirectory(dir=folder(app)) as tmp:
        plain = Path(tmp) / "restore.sqlite3"
        with open(path, "rb") as source, files.private_writer(plain) as out:
            for chunk in files.iter_open(source, keyring, CONTEXT):
                out.write(chunk)
        source_db = sqlite3.connect(plain)
        live = sqlite3.connect(database, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            live.execute("PRAGMA secure_delete=ON")  # pages the backup leaves free are zeroed, not kept
            source_db.backup(live)  # under SQLite's write lock: other connections wait, then see the restored data
        finally:
            live.close()
            source_db.close()
    upgrade_database(app.config["DATABASE_URL"], keyring)
    store = get_store()
    rotation.seal_legacy(store, keyring, Path(app.instance_path))
    maintenance.checkpoint(store)
    audit.record("backup_restored", detail={"file": path.name, "rows": sum(checked.counts.values()),
                                            "safety_backup": safety.name})
    return checked, safety


def _summary(checked: Checked) -> str:
    shown = ("submissions", "drafts", "staff_users", "audit_events")
    return ", ".join(f"{checked.counts.get(t, 0)} {t}" for t in shown)


@click.command("backup")
@with_appcontext
@click.option("--keep", type=click.IntRange(1), help="then delete all but the newest N backups in the folder")
def backup_command(keep: int | None) -> None:
    """Back up the SQLite database while the app runs: encrypted, 0600, verified by restoring it."""
    try:
        path, checked = make(current_app)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    audit.record("backup_made", detail={"file": path.name, "rows": sum(checked.counts.values())})
    click.echo(f"Backup written and verified (integrity ok; {_summary(checked)}): {path}")
    click.echo("It is encrypted with the data key: keep a copy of the key somewhere else, never next to the backups.")
    if keep:
        for old in sorted(folder(current_app).glob(PATTERN), reverse=True)[keep:]:
            old.unlink()
            click.echo(f"Deleted the older backup {old.name}")


@click.command("restore")
@with_appcontext
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def restore_command(backup_file: Path, yes: bool) -> None:
    """Replace the database's contents with BACKUP_FILE, after checking it and saving the current state."""
    try:
        checked = check(backup_file, current_app.extensions["intake.keyring"], folder(current_app))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{backup_file.name} is intact: {_summary(checked)} (schema {checked.revision}).")
    if not yes:
        click.echo("Restoring replaces EVERYTHING in the database with this backup: submissions, drafts, staff accounts "
                   "and the audit trail. Whatever was stored after the backup was made is kept only in the safety "
                   "backup made first. Stop the app if you can.")
        if click.prompt("Type restore to go ahead", default="", show_default=False).strip().lower() != "restore":
            raise click.ClickException("Nothing was changed.")
    try:
        restored, safety = restore(current_app, backup_file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored {_summary(restored)}. The database as it was is saved in {safety}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
