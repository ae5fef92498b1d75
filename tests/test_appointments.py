"""Appointments: patient fields encrypted, the link token 256-bit and stored as a hash only, expiry, status."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from sqlalchemy import text

from intake import appointments
from intake.models import utcnow
from intake.store import appointments as rows


def _store(app):
    return app.extensions["intake.store"]


def make(app, **overrides):
    fields = {"patient_name": "Maria Lopez", "email": "maria@example.org", "mobile": None,
              "visit_at": utcnow() + dt.timedelta(days=2), "treatments": "neurotoxin", "language": "en"}
    with app.app_context():
        return appointments.create(_store(app), **{**fields, **overrides})


def test_patient_fields_are_stored_encrypted(app):
    appointment = make(app, mobile="+34 600 123 456")
    with _store(app).engine.connect() as conn:
        raw = conn.execute(text("SELECT patient_name, email, mobile, key_id FROM appointments")).one()
    for value in raw[:3]:
        assert b"Maria" not in bytes(value) and b"maria@" not in bytes(value) and b"600" not in bytes(value)
    assert raw.key_id
    assert rows.get(_store(app), appointment.id).patient_name == "Maria Lopez"


def test_an_appointment_needs_an_email_or_a_mobile_and_a_known_treatment(app):
    with pytest.raises(ValueError):
        make(app, email=None, mobile=None)
    with pytest.raises(ValueError):
        make(app, treatments="botox-for-all")
    assert make(app, email=None, mobile="+1 555 0100").email is None


def test_the_token_is_256_bits_and_only_its_hash_is_stored(app):
    appointment = make(app)
    token = appointments.issue_token(_store(app), appointment)
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) == 32
    with _store(app).engine.connect() as conn:
        stored = conn.execute(text("SELECT * FROM appointments")).mappings().one()
    assert token not in {str(v) for v in stored.values()}
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert appointments.by_token(_store(app), token).id == appointment.id


def test_a_new_token_replaces_the_old_one(app):
    appointment = make(app)
    first = appointments.issue_token(_store(app), appointment)
    second = appointments.issue_token(_store(app), appointment)
    assert first != second
    assert appointments.by_token(_store(app), first) is None
    assert appointments.by_token(_store(app), second).id == appointment.id


def test_the_token_expires_a_day_after_the_visit(app):
    visit = utcnow() + dt.timedelta(hours=3)
    appointment = make(app, visit_at=visit)
    token = appointments.issue_token(_store(app), appointment)
    assert appointments.by_token(_store(app), token, now=visit + dt.timedelta(hours=23)) is not None
    assert appointments.by_token(_store(app), token, now=visit + dt.timedelta(days=1, seconds=1)) is None


@pytest.mark.parametrize("token", ["", "x", "a" * 5000, None])
def test_unknown_or_absurd_tokens_find_nothing(app, token):
    make(app)
    assert appointments.by_token(_store(app), token) is None


def test_reminders_are_due_once_per_kind_and_only_while_no_form(app):
    now = utcnow()
    soon = make(app, visit_at=now + dt.timedelta(hours=20))
    later = make(app, visit_at=now + dt.timedelta(hours=60))
    make(app, visit_at=now + dt.timedelta(hours=10))  # never invited: no reminder
    for appointment in (soon, later):
        rows.mark_invited(_store(app), appointment.id, now)
    assert rows.due_for_reminder(_store(app), now, 24, "reminder-24h") == [soon.id]
    assert rows.due_for_reminder(_store(app), now, 72, "reminder-72h") == [soon.id, later.id]
    assert rows.record_mail(_store(app), soon.id, "reminder-24h") is True
    assert rows.record_mail(_store(app), soon.id, "reminder-24h") is False  # twice: refused
    assert rows.due_for_reminder(_store(app), now, 24, "reminder-24h") == []


def test_moving_the_visit_clears_its_reminder_records_so_they_are_due_again_for_the_new_date(app):
    now = utcnow()
    appointment = make(app, visit_at=now + dt.timedelta(hours=20))
    rows.mark_invited(_store(app), appointment.id, now - dt.timedelta(days=5))
    for kind in ("reminder-24h", "reminder-72h", "invitation"):
        rows.record_mail(_store(app), appointment.id, kind)
    # A change that leaves the visit alone keeps them: the reminders were for this visit.
    _moved, changed = appointments.change(_store(app), appointment.id, email="maria.lopez@example.org")
    assert changed == ["email"]
    assert sorted(rows.mails_sent(_store(app), appointment.id)) == ["invitation", "reminder-24h", "reminder-72h"]
    new_visit = now + dt.timedelta(hours=100)
    moved, changed = appointments.change(_store(app), appointment.id, visit_at=new_visit)
    assert changed == ["visit"] and moved.visit_at == new_visit
    assert rows.mails_sent(_store(app), appointment.id) == ["invitation"], "only the reminders were for the old date"
    assert rows.due_for_reminder(_store(app), now, 72, "reminder-72h") == []  # 100 h away: not yet
    later = now + dt.timedelta(hours=30)
    assert rows.due_for_reminder(_store(app), later, 72, "reminder-72h") == [appointment.id]
    assert rows.due_for_reminder(_store(app), later, 24, "reminder-24h") == []


def test_moving_the_visit_moves_an_issued_links_expiry_with_it(app):
    appointment = make(app)
    token = appointments.issue_token(_store(app), appointment)
    new_visit = appointment.visit_at + dt.timedelta(days=10)
    appointments.change(_store(app), appointment.id, visit_at=new_visit)
    assert rows.get(_store(app), appointment.id).token_expires_at == new_visit + appointments.VALID_AFTER_VISIT
    assert appointments.by_token(_store(app), token, now=appointment.visit_at + dt.timedelta(days=3)).id == appointment.id
    earlier_visit = utcnow() + dt.timedelta(hours=3)  # moved nearer: the link ends a day after the nearer visit
    appointments.change(_store(app), appointment.id, visit_at=earlier_visit)
    assert appointments.by_token(_store(app), token, now=earlier_visit + dt.timedelta(days=1, seconds=1)) is None


def test_a_change_follows_the_rules_of_create(app):
    appointment = make(app)
    with pytest.raises(ValueError):
        appointments.change(_store(app), appointment.id, treatments="laser")
    with pytest.raises(ValueError):
        appointments.change(_store(app), appointment.id, language="fr")
    with pytest.raises(ValueError):
        appointments.change(_store(app), appointment.id, email="", mobile=None)
    assert appointments.change(_store(app), 999, email="x@example.org") is None


def test_a_cancelled_visit_gets_no_reminders_and_is_not_missing_its_form_until_restored(app):
    now = utcnow()
    appointment = make(app, visit_at=now + dt.timedelta(hours=20))
    rows.mark_invited(_store(app), appointment.id, now - dt.timedelta(days=5))
    window = (now - dt.timedelta(hours=1), now + dt.timedelta(hours=24))
    assert rows.count_without_form(_store(app), *window) == 1
    assert appointments.cancel(_store(app), appointment.id) is True
    assert appointments.cancel(_store(app), appointment.id) is False, "already cancelled: nothing to record"
    assert rows.due_for_reminder(_store(app), now, 24, "reminder-24h") == []
    assert rows.count_without_form(_store(app), *window) == 0
    row = rows.row(_store(app), appointment.id)
    assert row.appointment.cancelled_at is not None and appointments.overdue(row, now) is False
    assert rows.count_between(_store(app), *window) == 1, "still listed"
    assert appointments.restore(_store(app), appointment.id) is True
    assert appointments.restore(_store(app), appointment.id) is False
    assert rows.due_for_reminder(_store(app), now, 24, "reminder-24h") == [appointment.id]
    assert appointments.overdue(rows.row(_store(app), appointment.id), now) is True


def test_status_follows_invitation_opening_saving_and_submission(app):
    appointment = make(app)
    store = _store(app)

    def current():
        return appointments.status(rows.row(store, appointment.id))

    assert current() == "not sent"
    rows.mark_invited(store, appointment.id, utcnow())
    assert current() == "invited"
    from intake.store import drafts
    token, draft = drafts.create(store, page="about-you")
    rows.opened(store, appointment.id, draft.id, utcnow())
    assert current() == "opened"
    drafts.save(store, token, {"first_name": "Maria"}, "about-you")
    assert current() == "in progress"
    from intake.store import submissions
    submission, _ = submissions.submit(store, submit_token=draft.submit_token, questionnaire_id="q",
                                       questionnaire_version="1", answers={"first_name": "Maria"})
    with store.writing() as session:
        rows.bind_submission(session, draft.id, submission.id)
    assert current() == "submitted"
    with store.writing() as session:
        session.execute(text("UPDATE submissions SET status = 'reviewed'"))
    assert current() == "reviewed"


def _bound(app, reason_visit_days=2):
    from intake.store import drafts, submissions

    store = _store(app)
    appointment = make(app)
    token, draft = drafts.create(store, page="about-you")
    rows.opened(store, appointment.id, draft.id, utcnow())
    submission, _ = submissions.submit(store, submit_token=draft.submit_token, questionnaire_id="q",
                                       questionnaire_version="1", answers={"first_name": "Maria"}, draft_token=token)
    assert rows.get(store, appointment.id).submission_id == submission.id  # bound in the submit's transaction
    return appointment, submission


def test_erasing_a_submission_at_the_patients_request_deletes_its_appointment(app):
    from intake import retention

    appointment, submission = _bound(app)
    with app.app_context():
        retention.erase(app, _store(app), submission.id, "patient_request")
    assert rows.get(_store(app), appointment.id) is None


def test_erasing_a_duplicate_keeps_the_booking_without_its_form(app):
    from intake import retention

    appointment, submission = _bound(app)
    with app.app_context():
        retention.erase(app, _store(app), submission.id, "duplicate")
    kept = rows.get(_store(app), appointment.id)
    assert kept is not None and kept.submission_id is None and kept.patient_name == "Maria Lopez"


def test_appointments_without_a_form_are_purged_after_their_keeping_time(app):
    from intake.appointments import retention as appointment_retention

    now = utcnow()
    old = make(app, visit_at=now - dt.timedelta(days=31))
    recent = make(app, visit_at=now - dt.timedelta(days=5))
    answered, _submission = _bound(app)
    with _store(app).writing() as session:
        session.execute(text("UPDATE appointments SET visit_at = :t WHERE id = :i"),
                        {"t": (now - dt.timedelta(days=40)).replace(tzinfo=None), "i": answered.id})
    with app.app_context():
        assert appointment_retention.purge_past(_store(app), now) == 1
    assert rows.get(_store(app), old.id) is None
    assert rows.get(_store(app), recent.id) is not None and rows.get(_store(app), answered.id) is not None
