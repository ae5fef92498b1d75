"""The seal: the answers' SHA-256 on every PDF page, in the audit trail from the submit on, and verify-submission."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from intake import answers as answers_mod
from intake import audit, pdf, renders, seal
from intake.models import AuditEvent, Submission
from intake.store import audit as audit_store
from intake.store import submissions
from tests.test_pdf import pdf_text, store_submission
from tests.vignettes import healthy
from tests.walk import EXPECTED, PAGES, walk_to_consent


def events(app, action: str) -> list[AuditEvent]:
    with app.extensions["intake.store"].reading() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def edit_behind_the_apps_back(app, submission, **values) -> None:
    """What someone with database access could do: change the row directly, bypassing every function of the app."""
    with app.extensions["intake.store"].engine.begin() as connection:
        connection.execute(update(Submission).where(Submission.id == submission.id).values(**values))


def verify(app, reference: str):
    return app.test_cli_runner().invoke(args=["verify-submission", reference])


# --- on the PDF ----------------------------------------------------------------------------------------------------

def test_every_page_prints_the_short_seal_and_the_questionnaire_version(app):
    submission = store_submission(app, EXPECTED)
    digest = answers_mod.sha256(EXPECTED)
    assert digest == submission.answers_sha256
    with app.app_context():
        text, reader = pdf_text(pdf.render_summary(submission))
    for page in reader.pages:
        footer = re.sub(r"\s+", " ", page.extract_text())
        assert f"Sealed SHA-256 {digest[:12]} · questionnaire {submission.questionnaire_version}" in footer
    assert f"Sealed: SHA-256 of the answers shown, {digest}, questionnaire {submission.questionnaire_version}." in text
    assert "It is the hash stored when the patient submitted." in text
    assert f"sha256={digest}" in reader.metadata["/Keywords"]
    assert "WARNING" not in text


def test_a_pdf_of_edited_answers_says_so_on_page_one(app):
    submission = store_submission(app, healthy())
    edit_behind_the_apps_back(app, submission, answers={**submission.answers, "allergies": ["none"], "goals": "Changed"})
    edited = submissions.get(app.extensions["intake.store"], submission.id)
    with app.app_context():
        text, reader = pdf_text(pdf.render_summary(edited))
    first = re.sub(r"\s+", " ", reader.pages[0].extract_text())
    assert "WARNING These answers do not match the seal made when the patient submitted." in first
    assert "It is NOT the hash stored when the patient submitted." in text
    assert f"verify-submission {submission.reference}" in first


# --- in the audit trail, from the submit on ------------------------------------------------------------------------

def test_submit_records_the_hash_in_the_audit_trail_and_nothing_else(any_app):
    submission = store_submission(any_app, EXPECTED)
    (event,) = events(any_app, "submitted")
    assert event.action in audit.ACTIONS
    assert (event.submission_id, event.detail) == (submission.id, {"answers_sha256": submission.answers_sha256})
    assert (event.actor_id, event.actor_email, event.ip) == (None, "patient", None)
    dumped = repr((event.detail, event.actor_email)).lower()
    assert not any(value.lower() in dumped for value in ("maria", "lópez", "1986-04-12", "555 201", submission.reference))
    assert audit.verify(any_app.extensions["intake.store"]).ok


def test_the_audit_event_commits_with_the_submission_or_not_at_all(any_app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the audit trail is unavailable")

    monkeypatch.setattr(audit_store, "append", broken)
    with pytest.raises(RuntimeError):
        store_submission(any_app, EXPECTED, token="z" * 30)
    monkeypatch.undo()
    store = any_app.extensions["intake.store"]
    assert submissions.get_by_token(store, "z" * 30) is None, "no submission without its audit event"
    first = store_submission(any_app, EXPECTED, token="z" * 30)
    again = store_submission(any_app, EXPECTED, token="z" * 30)  # a double submit stores one row and one event
    assert first.id == again.id and len(events(any_app, "submitted")) == 1


def test_the_patients_submit_through_the_wizard_is_in_the_audit_trail(app, patient):
    walk_to_consent(patient)
    patient.post("consent", PAGES["consent"])
    (event,) = events(app, "submitted")
    with app.extensions["intake.store"].reading() as session:
        (row,) = session.scalars(select(Submission)).all()
    assert event.submission_id == row.id and event.detail["answers_sha256"] == row.answers_sha256


# --- verify-submission -----------------------------------------------------------------------------------------------

def test_verify_submission_confirms_an_untouched_submission(app):
    submission = store_submission(app, EXPECTED)
    with app.app_context():
        renders.ensure_pdf(submission)
    result = verify(app, submission.reference)
    assert result.exit_code == 0, result.output
    assert f"answers now   sha256 {submission.answers_sha256}" in result.output
    assert re.search(r"ok\s+stored hash\s+matches", result.output)
    assert re.search(r"ok\s+audit trail\s+matches event #\d+", result.output)
    assert re.search(rf"ok\s+stored PDF\s+matches \({submission.answers_sha256[:12]}", result.output)
    assert "Sealed: the stored answers are the ones the patient submitted." in result.output
    (event,) = events(app, "submission_verified")
    assert event.submission_id == submission.id and event.detail == {"ok": True} and event.actor_email == "cli"


def test_an_edited_answer_row_is_detected(app):
    submission = store_submission(app, EXPECTED)
    with app.app_context():
        renders.ensure_pdf(submission)
    edit_behind_the_apps_back(app, submission, answers={**EXPECTED, "allergies": ["none"]})
    result = verify(app, submission.reference)
    assert result.exit_code != 0
    assert re.search(r"FAIL\s+stored hash\s+DIFFERS", result.output)
    assert re.search(r"FAIL\s+audit trail\s+DIFFERS", result.output)
    assert re.search(r"FAIL\s+stored PDF\s+DIFFERS", result.output), "the PDF made before the edit shows the original"
    assert "do NOT match their seal" in result.output
    assert events(app, "submission_verified")[-1].detail == {"ok": False}


def test_editing_the_answers_and_their_stored_hash_together_is_still_detected(app):
    submission = store_submission(app, EXPECTED)
    forged = {**EXPECTED, "pregnancy": "none", "allergies": ["none"]}
    edit_behind_the_apps_back(app, submission, answers=forged, answers_sha256=answers_mod.sha256(forged))
    result = verify(app, submission.reference)
    assert result.exit_code != 0
    assert re.search(r"ok\s+stored hash\s+matches", result.output)
    assert re.search(r"FAIL\s+audit trail\s+DIFFERS", result.output), "the hash-chained audit event holds the original"
    assert re.search(r"--\s+stored PDF\s+none stored yet", result.output)


def test_verify_submission_explains_what_it_cannot_check(app):
    submission = store_submission(app, healthy())
    with app.extensions["intake.store"].writing() as session:
        session.execute(update(Submission).where(Submission.id == submission.id).values(reference="OLD-ONE"))
    result = verify(app, "old-one")
    assert result.exit_code == 0, result.output
    assert re.search(r"--\s+stored PDF\s+none stored yet", result.output)
    missing = app.test_cli_runner().invoke(args=["verify-submission", "NOP-E00"])
    assert missing.exit_code != 0 and "No submission with reference or id 'NOP-E00'" in missing.output


def test_the_stored_pdf_is_read_through_one_function(app, monkeypatch):
    """seal.stored_pdf is the one place that knows where PDFs live: verify-submission reads nothing else."""
    submission = store_submission(app, EXPECTED)
    with app.app_context():
        real = pdf.render_summary(submission)
    monkeypatch.setattr(seal, "stored_pdf", lambda store, s: real if s.id == submission.id else None)
    result = verify(app, submission.reference)
    assert result.exit_code == 0 and re.search(r"ok\s+stored PDF\s+matches", result.output)
    monkeypatch.setattr(seal, "stored_pdf", lambda store, s: b"%PDF-1.7 truncated")
    result = verify(app, submission.reference)
    assert result.exit_code != 0 and re.search(r"FAIL\s+stored PDF\s+carries no seal", result.output)
