"""Migration 0011: drafts' old concern_areas lists become zone maps, decrypted and sealed again; submissions keep
the answers they were sealed with and are mapped on read."""

from __future__ import annotations

import datetime as dt
import json

from alembic import command
from sqlalchemy import insert, select, text

from intake import crypto, zonemap
from intake.cli import alembic_config, upgrade_database
from intake.crypto import blob, keys
from intake.db import make_engine
from intake.models import Draft

OLD = {"first_name": "Ana", "concerns": ["fine_lines", "pigmentation"], "concern_areas": ["around_eyes", "chin_jaw", "body"]}
NEW = {"first_name": "Bea", "concern_areas": {"forehead": ["lines_moving"]}}
WANT = {"crows_feet_r": ["lines_rest", "pigment"], "crows_feet_l": ["lines_rest", "pigment"],
        "under_eye_r": ["lines_rest", "pigment"], "under_eye_l": ["lines_rest", "pigment"],
        "chin": ["lines_rest", "pigment"], "jawline_r": ["lines_rest", "pigment"],
        "jawline_l": ["lines_rest", "pigment"], "body_other": ["lines_rest", "pigment"]}


def _draft(n: int, answers: dict) -> dict:
    now = dt.datetime.now(dt.UTC)
    return {"token_hash": f"{n:064d}", "submit_token": f"s{n:063d}", "answers": answers, "page": "skin",
            "language": "en", "created_at": now, "updated_at": now, "expires_at": now + dt.timedelta(days=7)}


def _raw(engine, token_hash: str) -> bytes:
    with engine.connect() as conn:
        value = conn.execute(text("SELECT answers FROM drafts WHERE token_hash = :t"), {"t": token_hash}).scalar()
    return value.encode() if isinstance(value, str) else bytes(value)


def test_the_mapping_places_every_old_area_and_reads_the_old_concerns():
    assert zonemap.legacy_zones(OLD["concern_areas"], OLD["concerns"]) == WANT
    assert zonemap.legacy_zones(["hands", "nose"], None) == {"nose": ["other"], "hands": ["other"]}
    assert set(zonemap.LEGACY_AREAS) == {"forehead", "between_brows", "around_eyes", "cheeks", "nose", "around_mouth",
                                         "chin_jaw", "neck", "chest", "hands", "body"}
    assert zonemap.upgrade_answers(NEW) is None and zonemap.upgrade_answers({}) is None


def test_0011_rewrites_sealed_and_plaintext_drafts_and_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    command.upgrade(alembic_config(url), "0007")
    keyring = keys.Keyring.from_entries(keys.new_entry())
    engine = make_engine(url)
    crypto.attach(engine, keyring)
    with engine.begin() as conn:
        conn.execute(insert(Draft), [_draft(1, OLD), _draft(2, NEW)])
        # a draft stored before encryption existed: plaintext JSON bytes, key_id NULL
        conn.execute(text("INSERT INTO drafts (token_hash, submit_token, answers, page, language, created_at, updated_at,"
                          " expires_at, unlock_failures) VALUES (:t, :s, :a, 'skin', 'en', :n, :n, :n, 0)"),
                     {"t": f"{3:064d}", "s": f"s{3:063d}", "a": json.dumps(OLD).encode(), "n": dt.datetime.now(dt.UTC)})
    new_before = _raw(engine, f"{2:064d}")

    upgrade_database(url, keyring)

    with engine.connect() as conn:
        rows = {r.token_hash[-1]: r for r in conn.execute(select(Draft.token_hash, Draft.answers, Draft.key_id))}
    assert rows["1"].answers == {**OLD, "concern_areas": WANT} and rows["1"].key_id == keyring.active_id
    assert rows["3"].answers == {**OLD, "concern_areas": WANT} and rows["3"].key_id == keyring.active_id
    assert rows["2"].answers == NEW
    assert _raw(engine, f"{2:064d}") == new_before  # untouched: not even re-sealed
    for n in (1, 3):  # sealed again, never left as plaintext
        raw = _raw(engine, f"{n:064d}")
        assert blob.is_sealed(raw) and b"crows_feet" not in raw and b"Ana" not in raw

    sealed_after = _raw(engine, f"{1:064d}")
    command.downgrade(alembic_config(url), "0007")
    upgrade_database(url, keyring)  # again: nothing left to change
    assert _raw(engine, f"{1:064d}") == sealed_after
    engine.dispose()


def test_without_keys_sealed_drafts_are_left_and_still_read_through_the_mapping(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    command.upgrade(alembic_config(url), "0007")
    keyring = keys.Keyring.from_entries(keys.new_entry())
    engine = make_engine(url)
    crypto.attach(engine, keyring)
    with engine.begin() as conn:
        conn.execute(insert(Draft), [_draft(1, OLD)])
    before = _raw(engine, f"{1:064d}")
    upgrade_database(url)  # a bare upgrade: no keys
    assert _raw(engine, f"{1:064d}") == before
    assert "1 encrypted draft(s) left" in capsys.readouterr().out
    engine.dispose()


def test_a_sealed_submission_keeps_its_answers_and_its_seal_and_is_mapped_on_read(app):
    from intake import summary
    from tests.test_pdf import store_submission

    submission = store_submission(app, {**OLD, "last_name": "Old"})
    with app.app_context():
        built = summary.build(submission, app.extensions["intake.questionnaire"])
    assert submission.answers["concern_areas"] == OLD["concern_areas"]
    assert built["seal"]["intact"] is True
    assert [r["code"] for r in built["zones"]["face"]] == [z for z in zonemap.FACE_ZONES if z in WANT]
    assert built["zones"]["body"][0]["concerns"] == ["Lines at rest", "Pigment or dark spots"]
