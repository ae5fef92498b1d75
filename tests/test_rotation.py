"""rotate-key: a real SIGKILL half way through, then a second run that finishes; nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from intake import demo
from intake.crypto import files, keys
from intake.models import Draft, ExportJob, ExportPart, RenderedPdf, Submission
from intake.store import drafts, exports, pdfs
from tests.staff_support import make_user

ROOT = Path(__file__).resolve().parent.parent
ROWS = 120
BATCH = 10


def flask(app, *args: str, wait: bool = True, **kwargs):
    env = {**os.environ, "INTAKE_INSTANCE_PATH": app.instance_path, "DATABASE_URL": app.config["DATABASE_URL"],
           "INTAKE_SECRET_KEY": "test-secret"}
    env.pop("INTAKE_DATA_KEYS", None)
    command = [sys.executable, "-m", "flask", "--app", "app", *args]
    if not wait:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kwargs)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, **kwargs)


def everything(store) -> dict:
    with store.reading() as session:
        rows = {s.id: (s.answers, s.flags, s.review_note) for s in session.scalars(select(Submission))}
        rows |= {f"draft-{d.id}": (d.answers,) for d in session.scalars(select(Draft))}
        rows |= {f"pdf-{p.id}": (p.content,) for p in session.scalars(select(RenderedPdf))}
        rows |= {f"part-{p.id}": (p.data,) for p in session.scalars(select(ExportPart))}
    return rows


def stored_bytes(app, store) -> None:
    """A stored PDF and a prepared export's parts: encrypted bytes, in deferred columns."""
    user = make_user(app, "admin")
    with store.reading() as session:
        first = session.scalar(select(Submission.id).limit(1))
    pdfs.save(store, first, "k" * 64, "f" * 64, b"%PDF-1.7 stored summary")
    job = exports.create(store, ExportJob(id="11111111-2222-3333-4444-555555555555", user_id=user.id, format="csv"))
    for seq in range(3):
        exports.add_part(store, job.id, seq, f"part {seq} of a prepared export".encode())


def key_ids(store) -> dict:
    with store.engine.connect() as conn:
        return dict(conn.execute(text("SELECT key_id, count(*) FROM submissions GROUP BY key_id")).all())


@pytest.mark.parametrize("fixture", ["app", "pg_app"])
def test_a_rotation_killed_half_way_then_run_again_loses_nothing(request, fixture):
    app = request.getfixturevalue(fixture)
    store = app.extensions["intake.store"]
    keyring = app.extensions["intake.keyring"]
    demo.insert(store, ROWS, seed=5, batch_size=100)
    for n in range(3):
        token, _ = drafts.create(store, "skin")
        drafts.save(store, token, {"goals": f"draft goal {n}"}, "skin")
    assert app.test_cli_runner().invoke(args=["export", "--format", "csv"]).exit_code == 0  # a sealed file too
    stored_bytes(app, store)
    before, old = everything(store), keyring.active_id

    process = flask(app, "rotate-key", "--batch-size", str(BATCH), "--pause", "0.05", wait=False)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        moved = ROWS - key_ids(store).get(old, ROWS)
        if moved >= 3 * BATCH or process.poll() is not None:
            break
        time.sleep(0.05)
    assert process.poll() is None, f"rotate-key ended before it could be killed: {process.stdout.read()}"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()

    half = key_ids(store)
    assert half.get(old, 0) > 0 and sum(n for k, n in half.items() if k != old) >= 3 * BATCH, half
    assert everything(store) == before, "a row did not survive the kill"

    finished = flask(app, "rotate-key", "--batch-size", str(BATCH))
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "Resuming" in finished.stdout
    keyring.refresh(force=True)
    new = keyring.active_id
    assert new != old and key_ids(store) == {new: ROWS}
    with store.engine.connect() as conn:
        for table, column in (("submissions", "answers"), ("drafts", "answers"), ("rendered_pdfs", "content"),
                              ("export_parts", "data")):
            headers = conn.execute(text(f"SELECT {column} FROM {table}")).scalars().all()
            assert headers and {bytes(h)[5:5 + len(new)].decode() for h in headers} == {new}, table
    assert {files.file_key_id(p) for p in (Path(app.instance_path) / "exports").iterdir()} == {new}
    assert everything(store) == before

    status = app.test_cli_runner().invoke(args=["key-status"])
    assert "Everything is on the active key." in status.output and f"{old}  old" in status.output
    retired = app.test_cli_runner().invoke(args=["rotate-key", "--retire"])
    assert retired.exit_code == 0 and f"Retired {old}" in retired.output, retired.output
    assert keys.Keyring.from_file(Path(app.instance_path) / "data_keys").ids == [new]
    assert everything(store) == before


def test_retire_refuses_while_a_row_still_uses_an_old_key(app):
    store, keyring = app.extensions["intake.store"], app.extensions["intake.keyring"]
    demo.insert(store, 5, seed=2)
    old = keyring.active_id
    keyring.add_key()  # as if rotate-key died right after adding the key
    result = app.test_cli_runner().invoke(args=["rotate-key", "--retire"])
    assert result.exit_code == 0, result.output
    assert "Resuming" in result.output and f"Retired {old}" in result.output  # it finished the job first
    assert keyring.ids == [keyring.active_id]


def test_a_row_whose_key_id_lies_is_still_found_by_its_own_header(app):
    store, keyring = app.extensions["intake.store"], app.extensions["intake.keyring"]
    demo.insert(store, 3, seed=3)
    keyring.add_key()
    with store.engine.begin() as conn:  # key_id claims the new key; the sealed values say otherwise
        conn.execute(text("UPDATE submissions SET key_id = :k"), {"k": keyring.active_id})
    from intake.crypto import rotation

    assert rotation.retirable(store, keyring, Path(app.instance_path)) == []
    assert rotation.pending(store, keyring, Path(app.instance_path)).rows["submissions"] == 3


def test_with_keys_in_the_environment_the_operator_is_told_what_to_do(tmp_path, migrated_sqlite):
    import shutil

    from tests.conftest import make_app

    shutil.copy(migrated_sqlite, tmp_path / "db.sqlite3")
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    first = keys.new_entry()
    app = make_app(tmp_path, url, DATA_KEYS=first)
    demo.insert(app.extensions["intake.store"], 4, seed=4)
    result = app.test_cli_runner().invoke(args=["rotate-key"])
    assert result.exit_code != 0 and "new-data-key" in result.output and "INTAKE_DATA_KEYS" in result.output
    printed = app.test_cli_runner().invoke(args=["new-data-key"])
    second = printed.stdout.strip()
    assert keys.Keyring.from_entries(second).active_id
    app.extensions["intake.store"].engine.dispose()

    app = make_app(tmp_path, url, DATA_KEYS=f"{second},{first}")  # the operator put it first and restarted
    result = app.test_cli_runner().invoke(args=["rotate-key", "--retire"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 4 row(s)" in result.output
    assert f"Nothing uses {first.split(':')[0]} any more: remove them from INTAKE_DATA_KEYS" in result.output
    assert not (tmp_path / "data_keys").exists()
    app.extensions["intake.store"].engine.dispose()
