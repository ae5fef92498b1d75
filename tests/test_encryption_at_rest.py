"""Encryption at rest, as an attacker with a copy of the disk would check it: raw bytes, file modes, upgrades."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import shutil
import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from intake.cli import alembic_config
from intake.models import ExportPart, RenderedPdf
from intake.store import submissions
from intake.store.submissions import fold
from tests.conftest import PG_URL, make_app
from tests.staff_support import login, make_user
from tests.test_forms import PNG_1X1
from tests.walk import PAGES, SECTIONS

# Every free-text answer, every contact detail and the signature carry a marker no real text contains.
MARKED = {
    "about-you": {"first_name": "Quillon", "last_name": "Vexmarkerz", "preferred_name": "Quilly",
                  "phone": "+44 7911 123456", "email": "zq7.marker@example.com",
                  "emergency_contact_name": "Emercontact Zq7", "emergency_contact_phone": "020 7946 0958",
                  "date_of_birth": "1979-02-13", "visit_reason": "VisitReasonZq7 my lines came back"},
    "medical-history": {"other_medications": "MedsZq7 50 mcg", "other_allergies": "AllergyZq7 (hives)"},
    "neurotoxin": {"neurotoxin_shortfall": "ShortfallZq7 after five weeks"},
    "skin": {"upcoming_event": "EventZq7 in May", "goals": "GoalsZq7 smoother cheeks"},
    "consent": {"signature_name": "SignatureZq7 Typed", "signature_drawing": PNG_1X1},
}
# Each is 7 bytes or more: a shorter one turns up by chance in a megabyte of ciphertext (3 bytes: about 1 in 16).
SECRETS = [*(word.encode() for values in MARKED.values() for value in values.values() for word in value.split()
             if "Zq7" in word and len(word) >= 7),
           b"zq7.marker", b"7911 123456", b"020 7946 0958", b"Emercontact", b"Vexmarkerz", b"Quillon",
           PNG_1X1.split(",")[1][:40].encode()]
# Stored in the clear by design, so staff can search and sort: the folded search name, date of birth, visit date.
CLEAR_BY_DESIGN = [fold("Quillon Vexmarkerz Quilly").encode(), b"1979-02-13"]


def marked_pages() -> dict:
    pages = copy.deepcopy(PAGES)
    for section, values in MARKED.items():
        pages[section].update(values)
    return pages


def submit_marked(patient) -> None:
    pages = marked_pages()
    patient.start()
    for section_id in SECTIONS:
        assert patient.post(section_id, pages[section_id]).status_code == 302, section_id
    assert patient.post("consent", pages["consent"]).location == "/intake/thanks"


def every_file(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_no_typed_answer_is_in_any_file_after_submit_pdf_export_and_backup(app, patient, tmp_path):
    submit_marked(patient)
    store = app.extensions["intake.store"]
    with store.reading() as session:
        [stored] = session.query(submissions.Submission).all()
    assert stored.answers["other_allergies"] == "AllergyZq7 (hives)"  # the app reads them back
    runner = app.test_cli_runner()
    for args in (["export", "--format", "ndjson"], ["export", "--format", "csv"], ["render-pdf", stored.reference]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    # A prepared export (a job): its file is kept in the database, like the PDF.
    make_user(app, "physician")
    physician = app.test_client()
    assert login(physician, "physician@clinic.test").status_code == 302
    prepared = physician.get("/staff/export?format=pdf-zip")
    assert prepared.status_code == 302 and "Your export is ready" in physician.get(prepared.location).text
    with store.reading() as session:
        assert session.query(RenderedPdf).filter(RenderedPdf.content.is_not(None)).count() == 1
        assert session.query(ExportPart).count() >= 1
    assert runner.invoke(args=["backup"]).exit_code == 0
    found = every_file(tmp_path)
    names = {p.relative_to(tmp_path).parts[0] for p in found}
    assert {"intake.sqlite3", "intake.sqlite3-wal", "exports", "backups"} <= names, names
    assert "pdf" not in names, "PDFs live in the database, never in a folder"
    for path, data in found.items():
        for secret in SECRETS:
            assert secret not in data, f"{secret!r} found in {path.name}"
    database = found[tmp_path / "intake.sqlite3"] + found[tmp_path / "intake.sqlite3-wal"]
    for clear in CLEAR_BY_DESIGN:
        assert clear in database, f"{clear!r} is expected in the clear (search and sort)"


def test_postgresql_holds_no_typed_answer_in_any_column_nor_in_its_data_files(pg_app):
    from tests.conftest import Patient

    submit_marked(Patient(pg_app.test_client()))
    engine = pg_app.extensions["intake.store"].engine
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars().all()
        dump = b"".join(
            json.dumps([str(v) if not isinstance(v, bytes | memoryview) else bytes(v).hex() for v in row]).encode()
            + b"".join(bytes(v) for v in row if isinstance(v, bytes | memoryview))
            for table in tables for row in conn.execute(text(f'SELECT * FROM "{table}"')).all()
        )
    for secret in SECRETS:
        assert secret not in dump, secret
    assert CLEAR_BY_DESIGN[0] in dump
    # The heap and TOAST files themselves, when this process can read the server's data directory.
    with engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))
        data_dir = Path(conn.execute(text("SHOW data_directory")).scalar())
        relations = conn.execute(text(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.relname = 'submissions' AND "
            "c.relnamespace = current_schema()::regnamespace UNION ALL SELECT pg_relation_filepath(c.reltoastrelid) "
            "FROM pg_class c WHERE c.relname = 'submissions' AND c.relnamespace = current_schema()::regnamespace"
        )).scalars().all()
    readable = [data_dir / r for r in relations if r and os.access(data_dir / r, os.R_OK)]
    for path in readable:
        raw = path.read_bytes()
        for secret in SECRETS:
            assert secret not in raw, f"{secret!r} in {path}"
    if readable:
        assert any(CLEAR_BY_DESIGN[0] in p.read_bytes() for p in readable)


def test_everything_the_app_writes_is_private_whatever_the_umask(tmp_path, migrated_sqlite, patient_factory):
    old = os.umask(0o022)
    try:
        instance = tmp_path / "fresh" / "instance"
        app = make_app(instance, f"sqlite:///{instance / 'intake.sqlite3'}", SECRET_KEY=None)
        runner = app.test_cli_runner()
        assert runner.invoke(args=["init-db"]).exit_code == 0
        submit_marked(patient_factory(app))
        for args in (["export", "--format", "csv"], ["backup"], ["rotate-key"],
                     ["export", "--format", "csv", "--plaintext", "-o", str(instance / "exports" / "plain.csv")]):
            result = runner.invoke(args=args)
            assert result.exit_code == 0, result.output
        # Looked at while the app still runs: SQLite removes -wal and -shm when the last connection closes.
        made = {p.relative_to(instance).as_posix(): p.stat().st_mode & 0o777 for p in [instance, *instance.rglob("*")]}
        app.extensions["intake.store"].engine.dispose()
    finally:
        os.umask(old)
    assert {"intake.sqlite3", "intake.sqlite3-wal", "intake.sqlite3-shm", "secret_key", "data_keys", "exports/plain.csv"} \
        <= set(made), sorted(made)
    assert any(name.startswith("backups/") for name in made) and "pdf" not in made
    for name, mode in made.items():
        expected = 0o700 if (instance / name).is_dir() else 0o600
        assert mode == expected, f"{name} is {oct(mode)}"


@pytest.fixture
def patient_factory():
    from tests.conftest import Patient

    return lambda app: Patient(app.test_client())


# --- upgrading a database that holds plaintext ---------------------------------------------------------------------

LEGACY_ANSWERS = {"first_name": "Oldrow", "other_allergies": "LegacyZq7 latex", "phone": "555 0100 7788"}


def _insert_plaintext_rows(conn) -> None:
    now = dt.datetime(2026, 1, 5, 9, 30)
    conn.execute(text(
        "INSERT INTO submissions (id, reference, submit_token, questionnaire_id, questionnaire_version, answers, "
        "answers_sha256, flags, has_stop_flags, status, language, patient_name, review_note, created_at, submitted_at) "
        "VALUES ('11111111-2222-3333-4444-555555555555', 'AAA-BBB', 'legacy-token', 'consultation', '1', :answers, "
        "'0', :flags, false, 'reviewed', 'en', 'oldrow', 'NoteZq7 legacy', :now, :now)"
    ), {"answers": json.dumps(LEGACY_ANSWERS), "flags": json.dumps([{"severity": "note", "message": "FlagZq7"}]),
        "now": now})
    conn.execute(text(
        "INSERT INTO drafts (token_hash, submit_token, answers, page, language, created_at, updated_at, expires_at) "
        "VALUES ('h', 's', :answers, 'skin', 'en', :now, :now, :later)"
    ), {"answers": json.dumps({"goals": "DraftZq7 goal"}), "now": now, "later": now + dt.timedelta(days=7)})


def _check_upgraded(app, instance: Path) -> None:
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Encrypted 2 row(s) and 0 file(s) stored before encryption" in result.output
    assert "Deleted 1 PDF file(s) cached on this disk by an older version" in result.output
    store = app.extensions["intake.store"]
    keyring = app.extensions["intake.keyring"]
    legacy = submissions.get_by_reference(store, "AAA-BBB")
    assert legacy.answers == LEGACY_ANSWERS and legacy.flags[0]["message"] == "FlagZq7"
    assert legacy.review_note == "NoteZq7 legacy" and legacy.key_id == keyring.active_id
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM drafts WHERE key_id IS NULL")).scalar() == 0
        for value in conn.execute(text("SELECT answers FROM drafts UNION ALL SELECT answers FROM submissions")).scalars():
            assert bytes(value)[:3] == b"\x00iC"
    # PDFs now live in the database: the old plaintext cache folder is gone (the sweep renders them again).
    assert not (instance / "pdf").exists()
    # Running it again finds nothing left to do.
    assert "Encrypted" not in app.test_cli_runner().invoke(args=["init-db"]).output


def _legacy_pdf(instance: Path) -> None:
    (instance / "pdf").mkdir(parents=True)
    (instance / "pdf" / "11111111-2222-3333-4444-555555555555-abc.pdf").write_bytes(b"%PDF-1.7 LegacyPdfZq7")


def test_upgrading_an_sqlite_database_of_plaintext_rows_encrypts_them_and_leaves_no_plaintext_bytes(tmp_path):
    url = f"sqlite:///{tmp_path / 'intake.sqlite3'}"
    command.upgrade(alembic_config(url), "0002")
    engine = create_engine(url)
    with engine.begin() as conn:
        _insert_plaintext_rows(conn)
    engine.dispose()
    _legacy_pdf(tmp_path)
    app = make_app(tmp_path, url)
    _check_upgraded(app, tmp_path)
    app.extensions["intake.store"].engine.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("intake.sqlite3*"))
    for secret in (b"Zq7", b"0100 7788"):
        assert secret not in raw


def test_upgrading_a_postgresql_database_of_plaintext_rows_encrypts_them(tmp_path, pg_schema_url):
    admin = create_engine(PG_URL)
    schema = f"intake_upgrade_{uuid.uuid4().hex[:8]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        command.upgrade(alembic_config(url), "0002")
        engine = create_engine(url)
        with engine.begin() as conn:
            _insert_plaintext_rows(conn)
        engine.dispose()
        _legacy_pdf(tmp_path)
        app = make_app(tmp_path, url)
        _check_upgraded(app, tmp_path)
        with app.extensions["intake.store"].engine.connect() as conn:
            assert conn.execute(text("SELECT data_type FROM information_schema.columns WHERE table_schema = "
                                     "current_schema() AND table_name = 'submissions' AND column_name = 'answers'")
                                ).scalar() == "bytea"
        app.extensions["intake.store"].engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_the_migration_downgrades_while_nothing_is_encrypted_yet(tmp_path):
    url = f"sqlite:///{tmp_path / 'intake.sqlite3'}"
    command.upgrade(alembic_config(url), "0002")
    engine = create_engine(url)
    with engine.begin() as conn:
        _insert_plaintext_rows(conn)
    command.upgrade(alembic_config(url), "0004")
    command.downgrade(alembic_config(url), "0002")
    with engine.connect() as conn:
        assert json.loads(conn.execute(text("SELECT answers FROM submissions")).scalar()) == LEGACY_ANSWERS
    engine.dispose()
    shutil.rmtree(tmp_path / "pdf", ignore_errors=True)
