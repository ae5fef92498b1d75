"""backup and restore: an online, encrypted, verified copy of SQLite, and a careful way back."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake import demo
from intake.models import Draft, Submission
from intake.store import drafts, submissions
from tests.staff_support import add_submission, audit_rows


def count(store, model) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_backup_made_while_the_app_writes_is_encrypted_verified_and_restores(app, tmp_path):
    store = app.extensions["intake.store"]
    demo.insert(store, 40, seed=9)
    marked = add_submission(app, other_allergies="BackupMarkerZq9")
    stop, written = threading.Event(), []

    def keep_writing():  # a patient saving pages the whole time
        while not stop.is_set():
            token, _ = drafts.create(store, "about-you")
            written.append(token)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        result = app.test_cli_runner().invoke(args=["backup"])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert "verified (integrity ok; 41 submissions" in result.output and written
    [backup] = (tmp_path / "backups").glob("intake-*.sqlite3.enc")
    raw = backup.read_bytes()
    assert raw.startswith(b"\x00iF") and b"SQLite format" not in raw and b"maria" not in raw.lower()
    assert backup.stat().st_mode & 0o777 == 0o600
    assert [e.detail["file"] for e in audit_rows(app) if e.action == "backup_made"] == [backup.name]

    drafts_in_backup = int(result.output.split(" drafts")[0].rsplit(" ", 1)[1])
    add_submission(app)  # made after the backup: the restore takes it away, the safety backup keeps it
    result = app.test_cli_runner().invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert count(store, Submission) == 41 and count(store, Draft) == drafts_in_backup
    assert submissions.get(store, marked.id).answers["other_allergies"] == "BackupMarkerZq9"
    [safety] = (tmp_path / "backups").glob("*-before-restore.sqlite3.enc")
    assert safety.name in result.output
    [event] = [e for e in audit_rows(app) if e.action == "backup_restored"]
    assert event.detail["file"] == backup.name and event.detail["safety_backup"] == safety.name
    with sqlite3.connect(tmp_path / "intake.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    # And the safety backup brings back the submission made after the first backup.
    assert app.test_cli_runner().invoke(args=["restore", str(safety), "--yes"]).exit_code == 0
    assert count(store, Submission) == 42


def test_restore_asks_before_it_replaces_anything(app, tmp_path):
    add_submission(app)
    assert app.test_cli_runner().invoke(args=["backup"]).exit_code == 0
    [backup] = (tmp_path / "backups").glob("*.enc")
    add_submission(app)
    result = app.test_cli_runner().invoke(args=["restore", str(backup)], input="no\n")
    assert result.exit_code != 0 and "replaces EVERYTHING" in result.output and "Nothing was changed" in result.output
    assert count(app.extensions["intake.store"], Submission) == 2


@pytest.mark.parametrize("damage", [
    lambda raw: raw[:-100],                                  # cut short
    lambda raw: raw[:200] + bytes([raw[200] ^ 1]) + raw[201:],  # one flipped bit
])
def test_a_damaged_backup_is_refused_and_the_database_is_untouched(app, tmp_path, damage):
    add_submission(app)
    assert app.test_cli_runner().invoke(args=["backup"]).exit_code == 0
    [backup] = (tmp_path / "backups").glob("*.enc")
    backup.write_bytes(damage(backup.read_bytes()))
    add_submission(app)
    result = app.test_cli_runner().invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code != 0 and "does not open" in result.output
    assert count(app.extensions["intake.store"], Submission) == 2
    assert not list((tmp_path / "backups").glob("*before-restore*"))


def test_a_backup_whose_rows_need_a_retired_key_is_refused(app, tmp_path):
    add_submission(app)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup"]).exit_code == 0
    assert runner.invoke(args=["rotate-key"]).exit_code == 0
    assert runner.invoke(args=["rotate-key", "--retire"]).exit_code == 0
    [backup] = (tmp_path / "backups").glob("*.enc")  # re-sealed by the rotation, but its rows are on the old key
    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code != 0 and "which the keyring does not have" in result.output


def test_a_backup_from_another_installation_cannot_be_read(app, tmp_path, migrated_sqlite):
    import shutil

    from tests.conftest import make_app

    add_submission(app)
    assert app.test_cli_runner().invoke(args=["backup"]).exit_code == 0
    [backup] = (tmp_path / "backups").glob("*.enc")
    other_folder = tmp_path / "other"
    other_folder.mkdir()
    shutil.copy(migrated_sqlite, other_folder / "db.sqlite3")
    other = make_app(other_folder, f"sqlite:///{other_folder / 'db.sqlite3'}")
    result = other.test_cli_runner().invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code != 0 and "cannot be decrypted" in result.output and "not in the keyring" in result.output
    other.extensions["intake.store"].engine.dispose()


def test_keep_leaves_the_newest_backups(app, tmp_path):
    runner = app.test_cli_runner()
    for _ in range(3):
        assert runner.invoke(args=["backup"]).exit_code == 0
    names = sorted(p.name for p in (tmp_path / "backups").iterdir())
    result = runner.invoke(args=["backup", "--keep", "2"])
    assert result.exit_code == 0
    left = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert len(left) == 2 and names[-1] in left and names[0] not in left


def test_on_postgresql_backup_points_to_pg_dump(pg_app):
    result = pg_app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code != 0 and "pg_dump" in result.output


def test_a_backup_file_is_not_left_behind_when_the_check_fails(app, tmp_path, monkeypatch):
    from intake import backup

    monkeypatch.setattr(backup, "_inspect", lambda conn, real=backup._inspect: (
        real(conn) if conn.execute("PRAGMA database_list").fetchone()[2].endswith("snapshot.sqlite3")
        else backup.Checked({"submissions": -1}, None, set())))
    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code != 0 and "other row counts" in result.output
    assert list(Path(tmp_path / "backups").iterdir()) == []
