"""Encryption at rest, unit by unit: sealed values, keyrings, column types, sealed files."""

from __future__ import annotations

import io
import json
import os
import shutil

import pytest
from sqlalchemy import select, text

from intake import crypto
from intake.crypto import blob, files, keys
from intake.crypto.keys import Keyring, KeyringError, UnknownKeyError
from intake.models import Draft, Submission
from intake.store import drafts, search, submissions
from tests.conftest import make_app


def ring(*ids: str) -> Keyring:
    return Keyring({key_id: os.urandom(32) for key_id in ids}, ids[0])


# --- sealed values -------------------------------------------------------------------------------------------------

def test_a_sealed_value_names_its_key_and_opens_only_as_its_own_column():
    keyring = ring("k1")
    sealed = blob.seal(keyring, b"Levothyroxine", "submissions.answers")
    assert sealed.startswith(b"\x00iC\x01\x02k1") and b"Levothyroxine" not in sealed
    assert blob.key_id_of(sealed) == "k1"
    assert blob.open_blob(keyring, sealed, "submissions.answers") == b"Levothyroxine"
    with pytest.raises(blob.SealError, match="another column"):
        blob.open_blob(keyring, sealed, "submissions.flags")


def test_the_same_value_seals_differently_each_time():
    keyring = ring("k1")
    assert blob.seal(keyring, b"same", "t.c") != blob.seal(keyring, b"same", "t.c")


@pytest.mark.parametrize("tamper", [
    lambda b: b[:-1] + bytes([b[-1] ^ 1]),            # a flipped bit in the tag
    lambda b: b[:20] + bytes([b[20] ^ 1]) + b[21:],   # a flipped bit in the nonce or ciphertext
    lambda b: b[:-20],                                 # cut short
])
def test_an_altered_value_does_not_open(tamper):
    keyring = ring("k1")
    sealed = blob.seal(keyring, b"x" * 40, "t.c")
    with pytest.raises(blob.SealError):
        blob.open_blob(keyring, tamper(sealed), "t.c")


def test_editing_the_key_id_in_the_header_is_detected():
    keyring = ring("k1", "k2")
    sealed = blob.seal(keyring, b"secret", "t.c")
    relabelled = sealed.replace(b"k1", b"k2", 1)
    with pytest.raises(blob.SealError):
        blob.open_blob(keyring, relabelled, "t.c")


def test_a_value_sealed_with_an_unknown_key_says_which_key_is_missing():
    sealed = blob.seal(ring("lost"), b"x", "t.c")
    with pytest.raises(UnknownKeyError, match="'lost'"):
        blob.open_blob(ring("k1"), sealed, "t.c")


# --- keyrings ------------------------------------------------------------------------------------------------------

def test_environment_keys_the_first_is_active():
    first, second = keys.new_entry(), keys.new_entry()
    keyring = Keyring.from_entries(f"{first}, {second}")
    assert keyring.active_id == first.split(":")[0] and keyring.ids == [first.split(":")[0], second.split(":")[0]]
    assert not keyring.writable
    with pytest.raises(KeyringError, match="new-data-key"):
        keyring.add_key()


@pytest.mark.parametrize(("value", "message"), [
    ("nocolon", "look like"), ("k1:" + "A" * 12, "32 bytes"), ("k1:!!!", "base64"),
    (f"k1:{keys.encode_key(bytes(32))},k1:{keys.encode_key(bytes(32))}", "twice"),
])
def test_malformed_environment_keys_are_refused_with_a_reason(value, message):
    with pytest.raises(KeyringError, match=message):
        Keyring.from_entries(value)


def test_the_key_file_is_made_once_0600_and_survives_a_restart(tmp_path):
    path = tmp_path / "data_keys"
    keys.ensure_file(path)
    first = Keyring.from_file(path)
    keys.ensure_file(path)
    assert Keyring.from_file(path).active_id == first.active_id
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_key_added_by_another_process_is_picked_up(tmp_path, monkeypatch):
    path = tmp_path / "data_keys"
    keys.ensure_file(path)
    server, rotator = Keyring.from_file(path), Keyring.from_file(path)
    new_id = rotator.add_key()
    # A value sealed with the new key opens at once (the file is reread on an unknown key id) ...
    assert blob.open_blob(server, blob.seal(rotator, b"x", "t.c"), "t.c") == b"x"
    # ... and the next transaction after the throttle seals with it.
    monkeypatch.setattr(keys, "REFRESH_EVERY", 0)
    server.refresh()
    assert server.active_id == new_id


def test_the_active_key_cannot_be_retired(tmp_path):
    path = tmp_path / "data_keys"
    keys.ensure_file(path)
    keyring = Keyring.from_file(path)
    with pytest.raises(KeyringError, match="active"):
        keyring.remove_keys([keyring.active_id])


def test_data_keys_come_from_the_environment_and_stay_out_of_the_config(tmp_path, migrated_sqlite):
    shutil.copy(migrated_sqlite, tmp_path / "db.sqlite3")
    entry = keys.new_entry()
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}", DATA_KEYS=entry)
    assert app.extensions["intake.keyring"].active_id == entry.split(":")[0]
    assert "DATA_KEYS" not in app.config and not (tmp_path / "data_keys").exists()
    app.extensions["intake.store"].engine.dispose()


# --- column types --------------------------------------------------------------------------------------------------

def test_answers_flags_and_notes_are_plain_python_in_the_app_and_sealed_in_the_database(any_app):
    store = any_app.extensions["intake.store"]
    answers = {"first_name": "Quentin", "other_allergies": "Penicillin-7Q"}
    submission, _ = submissions.submit(store, submit_token="c" * 32, questionnaire_id="consultation",
                                       questionnaire_version="1", answers=answers,
                                       flags=[{"severity": "note", "message": "Flag-7Q"}])
    with store.writing() as session:
        search.mark_reviewed(session, submission.id, None, "Note-7Q")
    again = submissions.get(store, submission.id)
    assert (again.answers, again.flags[0]["message"], again.review_note) == (answers, "Flag-7Q", "Note-7Q")
    with store.engine.connect() as conn:
        raw = conn.execute(text("SELECT answers, flags, review_note, key_id FROM submissions")).one()
    keyring = any_app.extensions["intake.keyring"]
    assert raw.key_id == keyring.active_id
    for value in raw[:3]:
        assert bytes(value).startswith(blob.header(keyring.active_id)) and b"7Q" not in bytes(value)


def test_an_update_to_one_sealed_column_reseals_the_whole_row_with_the_active_key(any_app):
    store = any_app.extensions["intake.store"]
    keyring = any_app.extensions["intake.keyring"]
    submission, _ = submissions.submit(store, submit_token="d" * 32, questionnaire_id="consultation",
                                       questionnaire_version="1", answers={"a": 1})
    old = keyring.active_id
    keyring.add_key()
    submissions.update_flags(store, submission.id, [{"severity": "note"}], "r2")  # touches flags only
    with store.engine.connect() as conn:
        row = conn.execute(text("SELECT answers, flags, key_id FROM submissions")).one()
    assert row.key_id == keyring.active_id != old
    assert {blob.key_id_of(bytes(row.answers)), blob.key_id_of(bytes(row.flags))} == {keyring.active_id}
    assert submissions.get(store, submission.id).answers == {"a": 1}


def test_sealed_columns_cannot_be_compared_in_sql():
    with pytest.raises(TypeError, match="encrypted"):
        select(Submission).where(Submission.flags != [])
    with pytest.raises(TypeError, match="encrypted"):
        select(Draft).where(Draft.answers["first_name"] == "x")
    assert "IS NULL" in str(select(Submission).where(Submission.review_note.is_(None)))


def test_two_apps_in_one_process_keep_their_own_keys(tmp_path, migrated_sqlite):
    apps = []
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(migrated_sqlite, folder / "db.sqlite3")
        apps.append(make_app(folder, f"sqlite:///{folder / 'db.sqlite3'}"))
    one, two = (a.extensions["intake.store"] for a in apps)
    token, _ = drafts.create(one, "about-you")
    drafts.save(one, token, {"first_name": "Ines"}, "about-you")
    token_two, _ = drafts.create(two, "about-you")
    drafts.save(two, token_two, {"first_name": "Ugo"}, "about-you")
    assert drafts.get(one, token).answers == {"first_name": "Ines"}
    assert drafts.get(two, token_two).answers == {"first_name": "Ugo"}
    assert apps[0].extensions["intake.keyring"].active_id != apps[1].extensions["intake.keyring"].active_id
    # App two's keys cannot open app one's rows: copy the sealed value across and read it through app two.
    with one.engine.connect() as conn:
        sealed = conn.execute(text("SELECT answers FROM drafts")).scalar()
    with two.engine.begin() as conn:
        conn.execute(text("UPDATE drafts SET answers = :v"), {"v": sealed})
    with pytest.raises(UnknownKeyError):
        drafts.get(two, token_two)
    for a in apps:
        a.extensions["intake.store"].engine.dispose()


def test_legacy_plaintext_values_still_read(app):
    store = app.extensions["intake.store"]
    token, draft = drafts.create(store, "about-you")
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE drafts SET answers = :v, key_id = NULL"),
                     {"v": json.dumps({"first_name": "Old"}).encode()})
    assert drafts.get(store, token).answers == {"first_name": "Old"}


# --- sealed files --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, files.CHUNK - 1, files.CHUNK, files.CHUNK + 1, 3 * files.CHUNK])
def test_sealed_files_round_trip_at_chunk_boundaries(tmp_path, size):
    keyring, data = ring("k1"), os.urandom(size)
    path = tmp_path / "f.enc"
    files.write_sealed(path, data, keyring, "export")
    assert files.read_sealed(path, keyring, "export") == data
    assert path.stat().st_mode & 0o777 == 0o600 and files.file_key_id(path) == "k1"


def test_a_sealed_file_cut_at_a_chunk_boundary_or_opened_as_another_kind_is_refused(tmp_path):
    keyring = ring("k1")
    path = tmp_path / "f.enc"
    files.write_sealed(path, os.urandom(2 * files.CHUNK + 10), keyring, "backup")
    raw = path.read_bytes()
    head = len(raw) - (2 * (files.CHUNK + files.TAG) + 10 + files.TAG)
    with pytest.raises(files.SealedFileError):
        b"".join(files.iter_open(io.BytesIO(raw[:head + 2 * (files.CHUNK + files.TAG)]), keyring, "backup"))
    with pytest.raises(files.SealedFileError):
        files.read_sealed(path, keyring, "export")


def test_a_failed_write_leaves_no_file_and_no_partial(tmp_path):
    keyring = ring("k1")
    with pytest.raises(RuntimeError), files.sealed_writer(tmp_path / "x.enc", keyring, "export") as out:
        out.write(b"half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_the_crypto_package_exports_its_api():
    assert {"EncryptedJSON", "EncryptedBytes", "EncryptedText", "EncryptedRow", "attach", "Keyring"} <= set(crypto.__all__)


def test_demo_bulk_inserts_go_through_the_same_sealing(any_app):
    from intake import demo

    store = any_app.extensions["intake.store"]
    demo.insert(store, 30, seed=8, batch_size=10)
    active = any_app.extensions["intake.keyring"].active_id
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT answers, flags, key_id FROM submissions")).all()
    assert len(rows) == 30 and {r.key_id for r in rows} == {active}
    assert all(blob.key_id_of(bytes(r.answers)) == active == blob.key_id_of(bytes(r.flags)) for r in rows)
    with store.reading() as session:
        assert all(isinstance(a, dict) and a["first_name"] for a in session.scalars(select(Submission.answers)))
