"""E-mail through a real SMTP server on 127.0.0.1: invitations, reminders, staff notifications, the digest,
failures shown to staff, the .eml folder when no server is configured, and the way clinics' servers
want to be spoken to: STARTTLS, TLS from the first byte (465), SMTP AUTH, certificates checked."""
# ruff: noqa: F811 - fixtures come from tests.mail_support and tests.staff_support

from __future__ import annotations

import base64
import datetime as dt
import email
import logging
import re
import stat
from email import policy

import pytest
from sqlalchemy import select, update
from sqlalchemy import text as sql

from intake import appointments, jobs, mail
from intake.mail import jobs as mail_jobs
from intake.mail import outbox, schedule
from intake.models import Appointment, JobFailure, OutboundMail, utcnow
from intake.store import appointments as appointment_rows
from tests.conftest import Patient, hidden_fields
from tests.mail_support import (
    AIOSMTPD_WARNINGS,
    HEALTH_WORDS,
    NOTIFY,
    book,
    mail_app,  # noqa: F401
    mail_app_for,
    make_certs,
    parts,
    run_queue,
    smtp,  # noqa: F401
    smtp_server,  # noqa: F401
    whole_text,
)
from tests.staff_support import add_submission, csrf, login, make_user
from tests.walk import PAGES, walk_to_consent

LINK = re.compile(r"http://localhost/i/([A-Za-z0-9_-]{43})")


def statuses(app) -> list[tuple[str, str]]:
    with app.extensions["intake.store"].reading() as session:
        return [(r.kind, r.status) for r in session.scalars(select(OutboundMail).order_by(OutboundMail.id))]


def test_the_invitation_comes_as_text_and_html_in_the_patients_language_with_a_working_link(mail_app, smtp):
    ids = {lang: book(mail_app, hours_ahead=96, language=lang, name="Maria Lopez") for lang in ("en", "es")}
    with mail_app.app_context():
        for appointment_id in ids.values():
            assert mail.send_invitation(appointment_id) is not None
    assert len(smtp.received) == 2
    store = mail_app.extensions["intake.store"]
    for (sender, recipients, message), (lang, appointment_id) in zip(smtp.received, ids.items(), strict=True):
        assert sender == "forms@clinic.test" and recipients == ["maria.lopez@example.com"]
        assert message["To"] == "maria.lopez@example.com" and message["Content-Language"] == lang
        assert message["Reply-To"] == "hello@clinic.test"
        assert message.get_content_type() == "multipart/alternative"
        text, html = parts(message)
        for body in (text, html):
            assert "Test Clinic" in body and "+1 555 010 2000" in body and "hello@clinic.test" in body
        (token,) = set(LINK.findall(text))
        assert f'href="http://localhost/i/{token}"' in html, "the button and the text carry the same link"
        with mail_app.app_context():
            assert appointments.by_token(store, token).id == appointment_id, "the link opens this appointment"
        phone = mail_app.test_client()
        opened = phone.get(f"/i/{token}")
        assert opened.status_code == 302 and phone.get(opened.location).status_code == 200, "the link works"
        everything = whole_text(message)
        assert "maria" not in everything and "lopez" not in everything, "no name in the e-mail"
        assert not [w for w in HEALTH_WORDS if w in everything], "no health information, no treatment"
        if lang == "en":
            assert message["Subject"] == "Your visit to Test Clinic: your form"
            assert "Start my form" in text and "Your visit" in html
        else:
            assert message["Subject"] == "Su visita a Test Clinic: su formulario"
            assert "Empezar mi formulario" in text and "Su visita" in html and "Start my form" not in html
    assert statuses(mail_app) == [("invitation", "sent")] * 2


def test_the_visit_date_is_spelled_in_the_clinics_zone_and_language(tmp_path, migrated_sqlite, smtp):
    app = mail_app_for(tmp_path, migrated_sqlite, smtp, CLINIC_TIMEZONE="America/New_York")
    appointment_id = book(app, hours_ahead=48, language="es")
    with app.app_context():
        visit = appointment_rows.get(app.extensions["intake.store"], appointment_id).visit_at
        mail.send_invitation(appointment_id)
    local = visit.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
    text, _html = parts(smtp.messages[0])
    assert f"{local.day} de " in text and str(local.year) in text and local.strftime("%H:%M") in text
    app.extensions["intake.store"].engine.dispose()


def test_reminders_go_at_72_and_24_hours_once_each_even_when_the_job_runs_twice(mail_app, smtp):
    soon = book(mail_app, hours_ahead=20, invited_hours_ago=100)  # due: the 24 h reminder (the 72 h one is passed)
    later = book(mail_app, hours_ahead=60, invited_hours_ago=100)  # due: the 72 h reminder
    far = book(mail_app, hours_ahead=200, invited_hours_ago=1)  # nothing due yet
    fresh = book(mail_app, hours_ahead=50, invited_hours_ago=1)  # invited after the 72 h moment: no 72 h reminder
    not_invited = book(mail_app, hours_ahead=30)
    no_address = book(mail_app, hours_ahead=30, invited_hours_ago=100, email_address=None)
    done = book(mail_app, hours_ahead=30, invited_hours_ago=100)
    with mail_app.app_context():
        add = add_submission(mail_app)
        with mail_app.extensions["intake.store"].writing() as session:
            session.execute(sql("UPDATE appointments SET submission_id = :s WHERE id = :a"), {"s": add.id, "a": done})
        jobs.run_now(mail_jobs.send_due_mail)
        jobs.run_now(mail_jobs.send_due_mail)  # a second worker, or a timer that fired twice
    assert len(smtp.received) == 2
    assert sorted(recipients for _f, recipients, _m in smtp.received) == [["maria.lopez@example.com"]] * 2
    store = mail_app.extensions["intake.store"]
    with mail_app.app_context():
        assert sorted(appointment_rows.mails_sent(store, soon)) == ["reminder-24h", "reminder-72h"]
        assert appointment_rows.mails_sent(store, later) == ["reminder-72h"]
        assert appointment_rows.mails_sent(store, far) == []
        assert appointment_rows.mails_sent(store, not_invited) == [] and appointment_rows.mails_sent(store, done) == []
        assert appointment_rows.mails_sent(store, fresh) == ["reminder-72h"], "recorded as passed, not sent"
        assert appointment_rows.mails_sent(store, no_address) == ["reminder-72h"], "no address: recorded, not sent"
    for message in smtp.messages:
        assert message["Subject"] == "Reminder: your form for your visit to Test Clinic"
        text, html = parts(message)
        assert "new link" in text and LINK.search(html)
        assert not [w for w in HEALTH_WORDS if w in whole_text(message)]
    # A day and a half later the 60 h and the 50 h appointments are within 24 h: their last reminder, once each.
    with mail_app.app_context():
        for _ in range(2):
            schedule.run_due(utcnow() + dt.timedelta(hours=37))
        for _ in range(2):
            schedule.run_due(utcnow() + dt.timedelta(hours=50))
    assert len(smtp.received) == 4
    with mail_app.app_context():
        assert sorted(appointment_rows.mails_sent(store, later)) == ["reminder-24h", "reminder-72h"]
        assert sorted(appointment_rows.mails_sent(store, fresh)) == ["reminder-24h", "reminder-72h"]
        assert appointment_rows.mails_sent(store, far) == [] and appointment_rows.mails_sent(store, done) == []


def test_a_reminder_replaces_the_invitation_link(mail_app, smtp):
    appointment_id = book(mail_app, hours_ahead=20, invited_hours_ago=100)
    store = mail_app.extensions["intake.store"]
    with mail_app.app_context():
        mail.send_invitation(appointment_id)
        jobs.run_now(mail_jobs.send_due_mail)
        first, second = (LINK.search(parts(m)[0]).group(1) for m in smtp.messages)
        assert appointments.by_token(store, first) is None, "only a hash is stored: the reminder re-issued the token"
        assert appointments.by_token(store, second).id == appointment_id


def test_the_spanish_reminder_is_in_spanish(mail_app, smtp):
    book(mail_app, hours_ahead=20, invited_hours_ago=100, language="es")
    with mail_app.app_context():
        jobs.run_now(mail_jobs.send_due_mail)
    (message,) = smtp.messages
    assert message["Subject"] == "Recordatorio: su formulario para su visita a Test Clinic"
    assert "Continuar mi formulario" in parts(message)[0] and message["Content-Language"] == "es"


def test_the_send_reminders_command_sends_without_a_worker_and_never_twice(tmp_path, migrated_sqlite, smtp):
    app = mail_app_for(tmp_path, migrated_sqlite, smtp, JOBS_IMMEDIATE=False)
    book(app, hours_ahead=20, invited_hours_ago=100)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["send-reminders"])
    assert first.exit_code == 0 and "1 reminders" in first.output and "Sent 1 e-mail(s)" in first.output
    second = runner.invoke(args=["send-reminders"])
    assert "0 reminders" in second.output and "Sent 0" in second.output
    assert len(smtp.received) == 1
    assert run_queue(app) == 1 and len(smtp.received) == 1, "the job the command also queued finds it sent"
    app.extensions["intake.store"].engine.dispose()


def test_a_rescheduled_visit_gets_its_reminders_again_for_the_new_date_once_each(mail_app, smtp):
    from babel.dates import format_date

    appointment_id = book(mail_app, hours_ahead=20, invited_hours_ago=100)
    store = mail_app.extensions["intake.store"]
    with mail_app.app_context():
        jobs.run_now(mail_jobs.send_due_mail)
        assert len(smtp.received) == 1, "the 24 h reminder for the old date"
        new_visit = (utcnow() + dt.timedelta(hours=100)).replace(second=0, microsecond=0)
        appointments.change(store, appointment_id, visit_at=new_visit)
        for _ in range(2):
            schedule.run_due()
        assert len(smtp.received) == 1, "100 h ahead: nothing due yet"
        for _ in range(2):
            schedule.run_due(utcnow() + dt.timedelta(hours=30))
        assert len(smtp.received) == 2, "70 h ahead: the 72 h reminder, once"
        for _ in range(2):
            schedule.run_due(utcnow() + dt.timedelta(hours=80))
        assert len(smtp.received) == 3, "20 h ahead: the 24 h reminder for the new date, once"
        assert sorted(appointment_rows.mails_sent(store, appointment_id)) == ["reminder-24h", "reminder-72h"]
        text, _html = parts(smtp.messages[-1])
        assert format_date(new_visit.date(), format="full", locale="en") in text, "it names the new date"
        token = LINK.search(text).group(1)
        found = appointments.by_token(store, token, now=new_visit + dt.timedelta(hours=23))
        assert found is not None and found.id == appointment_id, "its link works until a day after the new visit"
    assert [kind for kind, status in statuses(mail_app)] == ["reminder"] * 3


def test_a_cancelled_visit_gets_no_reminder_and_its_waiting_invitation_is_not_sent(tmp_path, migrated_sqlite, smtp):
    app = mail_app_for(tmp_path, migrated_sqlite, smtp, JOBS_IMMEDIATE=False)
    store = app.extensions["intake.store"]
    due = book(app, hours_ahead=20, invited_hours_ago=100)
    waiting = book(app, hours_ahead=96)
    with app.app_context():
        assert mail.send_invitation(waiting) is not None  # queued; no worker has sent it yet
        assert appointments.cancel(store, due) and appointments.cancel(store, waiting)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0 and "0 reminders" in result.output and "Sent 0 e-mail(s)" in result.output
    assert smtp.received == [] and statuses(app) == [("invitation", "cancelled")]
    with app.app_context():
        assert appointment_rows.mails_sent(store, due) == []
        appointments.restore(store, due)
    assert "1 reminders" in runner.invoke(args=["send-reminders"]).output and len(smtp.received) == 1
    app.extensions["intake.store"].engine.dispose()


def test_the_daily_digest_leaves_cancelled_visits_out(tmp_path, migrated_sqlite, smtp):
    app = mail_app_for(tmp_path, migrated_sqlite, smtp, DIGEST_HOUR=0, CLINIC_TIMEZONE="UTC")
    tomorrow = dt.datetime.combine(dt.date.today() + dt.timedelta(days=1), dt.time(0), dt.UTC)
    kept, cancelled = (book(app, hours_ahead=(tomorrow + dt.timedelta(hours=h) - utcnow()).total_seconds() / 3600)
                       for h in (9.5, 14))
    with app.app_context():
        appointments.cancel(app.extensions["intake.store"], cancelled)
        schedule.send_digest()
    (message,) = [m for _f, to, m in smtp.received if to == [NOTIFY]]
    body, _html = parts(message)
    assert "1 appointment(s) with no form yet" in message["Subject"] and "09:30" in body and "14:00" not in body
    app.extensions["intake.store"].engine.dispose()


def submit_form(client) -> None:
    patient = Patient(client)
    walk_to_consent(patient)
    consent = client.get("/intake/consent").text
    response = client.post("/intake/consent", data={**hidden_fields(consent), **PAGES["consent"], "action": "next"})
    assert response.location == "/intake/thanks"


def test_staff_are_told_of_a_submit_with_a_reference_and_no_name_or_answer(tmp_path, migrated_sqlite, smtp):
    app = mail_app_for(tmp_path, migrated_sqlite, smtp, JOBS_IMMEDIATE=False)
    submit_form(app.test_client())
    assert smtp.received == [], "the submit request sends nothing itself"
    waiting = sorted(t.name.rsplit(".", 1)[-1] for t in jobs.huey_for(app).pending())
    assert waiting == ["notify_submitted", "render_pdf"]
    assert [t.args for t in jobs.huey_for(app).pending() if t.name.endswith("notify_submitted")][0][0]
    with app.extensions["intake.store"].reading() as session:
        reference, has_stop = session.execute(sql("SELECT reference, has_stop_flags FROM submissions")).one()
    run_queue(app)
    run_queue(app)  # a duplicate job, or a retry, sends nothing more
    (sender, recipients, message), = smtp.received
    assert recipients == [NOTIFY] and message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == f"Form submitted: {reference}"
    body, html = parts(message)
    assert reference in body and "Sign in to read it." in body and "Sign in to read it." in html
    with app.extensions["intake.store"].reading() as session:
        submission_id = session.execute(sql("SELECT id FROM submissions")).scalar_one()
    assert f"http://localhost/staff/submissions/{submission_id}" in body, "the staff link names an id, no patient data"
    signed_out = app.test_client().get(f"/staff/submissions/{submission_id}")
    assert signed_out.status_code == 302 and signed_out.location.startswith("/staff/login"), "Sign in to read it."
    assert f"Stop flags: {'Yes' if has_stop else 'No'}" in body
    assert f"Visit date: {PAGES['about-you']['visit_date']}" in body
    everything = whole_text(message)
    for answer in ("maria", "lópez", "lopez", "levothyroxine", "penicillin", "botox", "1986", "555 201", "lidocaine"):
        assert answer not in everything, answer
    app.extensions["intake.store"].engine.dispose()


def test_no_notification_without_an_address(tmp_path, migrated_sqlite, smtp):
    app = mail_app_for(tmp_path, migrated_sqlite, smtp, NOTIFY_EMAIL="")
    add = add_submission(app)
    with app.app_context():
        mail_jobs.submitted(add)
    assert smtp.received == []
    app.extensions["intake.store"].engine.dispose()


def invitation_given_up(app) -> tuple[int, int, OutboundMail, JobFailure]:
    """Book a visit and invite; the first try fails, then every retry: (appointment, e-mail, its row, the failure)."""
    appointment_id = book(app, hours_ahead=30)
    with app.app_context():
        mail_id = mail.send_invitation(appointment_id)
    assert run_queue(app) == 1
    assert statuses(app) == [("invitation", "queued")], "one try failed: it will be tried again"
    run_queue(app, include_scheduled=True)
    with app.extensions["intake.store"].reading() as session:
        row = session.get(OutboundMail, mail_id)
        (failure,) = session.scalars(select(JobFailure))
    return appointment_id, mail_id, row, failure


def test_a_refused_email_is_retried_then_shown_to_staff_never_to_the_patient(tmp_path, migrated_sqlite, smtp):
    app = mail_app_for(tmp_path, migrated_sqlite, smtp, JOBS_IMMEDIATE=False)
    smtp.refuse = "550 5.1.1 mailbox unavailable"
    appointment_id, mail_id, row, failure = invitation_given_up(app)
    assert (row.status, row.attempts, row.error) == ("failed", mail_jobs.RETRIES + 1, "SMTPRecipientsRefused")
    assert failure.task == "intake.mail.jobs.send_mail" and failure.args == [mail_id]
    assert "maria" not in failure.error.lower() and "@" not in failure.error
    with app.app_context():
        assert outbox.latest_for_appointments([appointment_id]) == {
            appointment_id: ("invitation", "failed", "SMTPRecipientsRefused")}
    # Administrators see the job, without the address; they retry it once the address works.
    admin = make_user(app, "admin")
    client = app.test_client()
    login(client, admin.email)
    assert "E-mail not sent" in client.get("/staff/appointments/").text, "the appointment row tells staff"
    page = client.get("/staff/admin/jobs/").text
    assert "send_mail" in page and "SMTPRecipientsRefused" in page and "maria" not in page.lower()
    smtp.refuse = None
    retried = client.post(f"/staff/admin/jobs/{failure.id}/retry", data={"csrf_token": csrf(page)})
    assert retried.status_code == 302
    run_queue(app)
    assert len(smtp.received) == 1 and statuses(app) == [("invitation", "sent")]
    app.extensions["intake.store"].engine.dispose()


def test_without_smtp_the_emails_are_eml_files_in_a_private_folder(tmp_path, migrated_sqlite):
    app = mail_app_for(tmp_path, migrated_sqlite, None, PUBLIC_URL="http://localhost")
    appointment_id = book(app, hours_ahead=96, language="es")
    with app.app_context():
        mail.send_invitation(appointment_id)
    folder = tmp_path / "mail"
    (eml,) = folder.glob("*.eml")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(eml.stat().st_mode) == 0o600
    assert "maria" not in eml.name.lower() and eml.name.endswith("-invitation.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "maria.lopez@example.com" and message["Subject"].startswith("Su visita a Test Clinic")
    assert LINK.search(parts(message)[0])
    said = app.test_cli_runner().invoke(args=["mail-status"]).output
    assert "no SMTP server configured" in said and str(folder) in said and ".eml" in said
    app.extensions["intake.store"].engine.dispose()


def test_the_recipient_is_encrypted_at_rest(mail_app, smtp):
    appointment_id = book(mail_app, hours_ahead=96)
    with mail_app.app_context():
        mail.send_invitation(appointment_id)
    with mail_app.extensions["intake.store"].engine.connect() as conn:
        raw, key_id = conn.execute(sql("SELECT address, key_id FROM outbound_mail")).one()
    assert b"maria" not in bytes(raw) and key_id


def test_the_daily_digest_lists_tomorrows_missing_forms_by_time_once_a_day(tmp_path, migrated_sqlite, smtp):
    app = mail_app_for(tmp_path, migrated_sqlite, smtp, DIGEST_HOUR=0, CLINIC_TIMEZONE="UTC")
    tomorrow = dt.datetime.combine(dt.date.today() + dt.timedelta(days=1), dt.time(0), dt.UTC)
    hours = [(tomorrow + dt.timedelta(hours=h) - utcnow()).total_seconds() / 3600 for h in (9.5, 14, 16)]
    first, second, done = (book(app, hours_ahead=h, name=f"Patient Number{i}") for i, h in enumerate(hours))
    sub = add_submission(app)
    with app.extensions["intake.store"].writing() as session:
        session.execute(sql("UPDATE appointments SET submission_id = :s WHERE id = :a"), {"s": sub.id, "a": done})
    with app.app_context():
        schedule.send_digest()
        schedule.send_digest()
    digests = [m for _f, to, m in smtp.received if to == [NOTIFY]]
    assert len(digests) == 1
    (message,) = digests
    body, html = parts(message)
    assert "2 appointment(s) with no form yet" in message["Subject"]
    assert "09:30" in body and "14:00" in body and "16:00" not in body
    assert "Sign in to see who." in body and "Sign in to see who." in html
    assert "http://localhost/staff/appointments/" in body
    assert "patient" not in whole_text(message).replace("a patient", "") and "number" not in whole_text(message)
    app.extensions["intake.store"].engine.dispose()


def test_the_kiosk_resume_link_is_sent_and_the_kiosk_keeps_the_draft_until_it_is_opened(tmp_path, migrated_sqlite,
                                                                                        smtp):
    from intake.kiosk import outbox as kiosk_outbox

    app = mail_app_for(tmp_path, migrated_sqlite, smtp)
    kiosk = app.test_client()
    Patient(kiosk).start()
    store = app.extensions["intake.store"]
    with store.reading() as session:
        draft_id = session.execute(sql("SELECT id FROM drafts")).scalar_one()
    with app.app_context():
        kiosk_outbox.queue_resume_link(draft_id, "maria.lopez@example.com", "es")
    (message,) = smtp.messages
    assert message["Subject"] == "Su enlace para continuar su formulario – Test Clinic"
    body, html = parts(message)
    token = re.search(r"http://localhost/intake/resume/([A-Za-z0-9_-]{43})", body).group(1)
    assert f'href="http://localhost/intake/resume/{token}"' in html
    assert not [w for w in HEALTH_WORDS if w in whole_text(message)]
    assert kiosk.get("/intake/about-you").status_code == 200, "sending the link does not cut the kiosk off"
    home = app.test_client()
    opened = home.get(f"/intake/resume/{token}")
    assert opened.status_code == 302 and home.get(opened.location).status_code == 200
    assert kiosk.get("/intake/about-you").status_code == 302, "once the link is opened, it alone holds the draft"
    with store.reading() as session:
        (row,) = session.scalars(select(OutboundMail))
        assert (row.kind, row.status, row.draft_id) == ("resume_link", "sent", draft_id)
    app.extensions["intake.store"].engine.dispose()


def test_kiosk_requests_recorded_before_email_existed_are_sent_once(tmp_path, migrated_sqlite, smtp):
    from intake.models import MailRequest

    app = mail_app_for(tmp_path, migrated_sqlite, smtp)
    Patient(app.test_client()).start()
    store = app.extensions["intake.store"]
    with store.writing() as session:
        draft_id = session.execute(sql("SELECT id FROM drafts")).scalar_one()
        session.add(MailRequest(kind="resume_link", draft_id=draft_id, address="maria.lopez@example.com", language="en",
                                created_at=utcnow()))
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert "1 kiosk requests" in result.output
    assert app.test_cli_runner().invoke(args=["send-reminders"]).output.startswith("Due: 0 kiosk requests")
    (message,) = smtp.messages
    assert message["To"] == "maria.lopez@example.com" and "/intake/resume/" in parts(message)[0]
    with store.reading() as session:
        assert session.scalars(select(MailRequest)).all() == [], "the plaintext address is gone from mail_requests"
    app.extensions["intake.store"].engine.dispose()


def test_a_message_whose_job_was_lost_is_sent_by_the_next_round(mail_app, smtp):
    appointment_id = book(mail_app, hours_ahead=96)
    with mail_app.app_context():
        lost = outbox.add("invitation", address="maria.lopez@example.com", appointment_id=appointment_id)  # no job
        with mail_app.extensions["intake.store"].writing() as session:
            session.execute(update(OutboundMail).values(created_at=utcnow() - dt.timedelta(minutes=5)))
        assert mail_jobs.due_round()["e-mails queued again"] == 0, "still within its tries: left alone"
        with mail_app.extensions["intake.store"].writing() as session:
            session.execute(update(OutboundMail).values(created_at=utcnow() - dt.timedelta(hours=1)))
        assert mail_jobs.due_round()["e-mails queued again"] == 1
        assert mail_jobs.due_round()["e-mails queued again"] == 0
    assert len(smtp.received) == 1 and statuses(mail_app) == [("invitation", "sent")]
    with mail_app.app_context():
        assert outbox.get(lost).attempts == 1, "sent once, by the job the round enqueued"


def test_the_staff_notification_gives_the_booked_visit_when_the_form_came_from_an_invitation(mail_app, smtp):
    appointment_id = book(mail_app, hours_ahead=50, name="Maria Lopez")
    flagged = add_submission(mail_app, flags=[{"rule": "x", "severity": "stop", "message": "Pregnancy: do not treat"}])
    store = mail_app.extensions["intake.store"]
    with store.writing() as session:
        session.execute(sql("UPDATE appointments SET submission_id = :s WHERE id = :a"),
                        {"s": flagged.id, "a": appointment_id})
        session.execute(sql("UPDATE submissions SET has_stop_flags = :t WHERE id = :s"), {"t": True, "s": flagged.id})
    with mail_app.app_context():
        visit = appointment_rows.get(store, appointment_id).visit_at
        jobs.run_now(mail_jobs.notify_submitted, flagged.id)
    (message,) = smtp.messages
    body, html = parts(message)
    assert f"Visit date: {visit.strftime('%Y-%m-%d %H:%M')} (booked appointment)" in body
    assert "Stop flags: Yes" in body and ">Yes<" in html
    assert "pregnan" not in whole_text(message) and "do not treat" not in whole_text(message), "no flag text"
    assert "maria" not in whole_text(message)


def test_mail_status_names_the_server_and_warns_when_links_would_point_at_this_machine(tmp_path, migrated_sqlite, smtp):
    app = mail_app_for(tmp_path, migrated_sqlite, smtp, PUBLIC_URL="http://127.0.0.1:5000", SMTP_PASSWORD="s3cret-pw")
    said = app.test_cli_runner().invoke(args=["mail-status"]).output
    assert f"SMTP 127.0.0.1:{smtp.port} (no TLS)" in said and "set INTAKE_PUBLIC_URL" in said
    assert "s3cret-pw" not in said
    app.extensions["intake.store"].engine.dispose()


# --- TLS and SMTP AUTH: a real server with STARTTLS, TLS from the first byte, AUTH; a throwaway private CA ---

USERNAME, PASSWORD, WRONG_PASSWORD = "forms@clinic.test", "Corr3ct-horse-7141", "Wr0ng-guess-5302"
TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")


def invite(app) -> int:
    appointment_id = book(app, hours_ahead=96)
    with app.app_context():
        return mail.send_invitation(appointment_id)


def test_starttls_upgrades_the_session_before_mail_from_and_checks_the_certificate(tmp_path, migrated_sqlite,
                                                                                  smtp_server):
    certs = make_certs(tmp_path / "certs")
    server = smtp_server(starttls=certs)  # refuses MAIL FROM before STARTTLS
    app = mail_app_for(tmp_path, migrated_sqlite, server, SMTP_STARTTLS=True, SMTP_CA_FILE=str(certs.ca_file))
    invite(app)
    (sender, recipients, message), = server.received
    assert sender == "forms@clinic.test" and recipients == ["maria.lopez@example.com"]
    assert LINK.search(parts(message)[0]) and message["Subject"] == "Your visit to Test Clinic: your form"
    ((mail_from, tls, login),) = server.mail_from
    assert mail_from == "forms@clinic.test" and tls in TLS_VERSIONS and login is None, "TLS before MAIL FROM"
    assert statuses(app) == [("invitation", "sent")]
    said = app.test_cli_runner().invoke(args=["mail-status"]).output
    assert f"SMTP 127.0.0.1:{server.port} (STARTTLS)" in said
    assert f"checked against the CA file {certs.ca_file} (INTAKE_SMTP_CA_FILE)." in said
    app.extensions["intake.store"].engine.dispose()


@AIOSMTPD_WARNINGS
def test_tls_from_the_first_byte_port_465_style_with_a_login(tmp_path, migrated_sqlite, smtp_server):
    certs = make_certs(tmp_path / "certs")
    server = smtp_server(implicit_tls=certs, login=(USERNAME, PASSWORD))
    # By name: the certificate's DNS subjectAltName "localhost" is what is checked here.
    app = mail_app_for(tmp_path, migrated_sqlite, server, SMTP_HOST="localhost", SMTP_SSL=True, SMTP_STARTTLS=True,
                       SMTP_CA_FILE=str(certs.ca_file), SMTP_USERNAME=USERNAME, SMTP_PASSWORD=PASSWORD)
    invite(app)
    (_sender, recipients, message), = server.received
    assert recipients == ["maria.lopez@example.com"] and LINK.search(parts(message)[0])
    ((_mechanism, login, accepted, tls),) = server.logins
    assert (login, accepted) == (USERNAME, True) and tls in TLS_VERSIONS
    ((_from, tls, login),) = server.mail_from
    assert tls in TLS_VERSIONS and login == USERNAME
    assert statuses(app) == [("invitation", "sent")]
    assert "(SSL)" in app.test_cli_runner().invoke(args=["mail-status"]).output
    app.extensions["intake.store"].engine.dispose()


def secrets_in(text: str) -> list[str]:
    """The passwords, as typed or base64-encoded (AUTH LOGIN sends them so), found in `text`."""
    forms = [form for p in (PASSWORD, WRONG_PASSWORD) for form in (p, base64.b64encode(p.encode()).decode())]
    return [form for form in forms if form in text]


def app_log(caplog) -> str:
    """Everything the app and its libraries logged, with tracebacks; not the test server's own log (mail.log)."""
    return "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records if not r.name.startswith("mail.log"))


@AIOSMTPD_WARNINGS
def test_smtp_auth_a_wrong_password_fails_retries_and_is_shown_to_staff_and_the_password_is_never_written_down(
        tmp_path, migrated_sqlite, smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    certs = make_certs(tmp_path / "certs")
    server = smtp_server(starttls=certs, login=(USERNAME, PASSWORD))  # AUTH required, and only after STARTTLS
    app = mail_app_for(tmp_path, migrated_sqlite, server, JOBS_IMMEDIATE=False, SMTP_STARTTLS=True,
                       SMTP_CA_FILE=str(certs.ca_file), SMTP_USERNAME=USERNAME, SMTP_PASSWORD=WRONG_PASSWORD)
    _appointment_id, mail_id, row, failure = invitation_given_up(app)
    assert (row.status, row.attempts, row.error) == ("failed", mail_jobs.RETRIES + 1, "SMTPAuthenticationError")
    assert failure.error == f"e-mail {mail_id} (invitation) not sent: SMTPAuthenticationError"
    assert server.received == [] and server.mail_from == [], "no MAIL FROM without a login"
    # smtplib tries each mechanism the server offers (PLAIN, then LOGIN): at least one refusal per try.
    assert len(server.logins) >= mail_jobs.RETRIES + 1
    assert {(login, accepted, tls in TLS_VERSIONS) for _m, login, accepted, tls in server.logins} == \
        {(USERNAME, False, True)}, "each try logged in over TLS, and was refused"
    admin = make_user(app, "admin")
    client = app.test_client()
    login(client, admin.email)
    assert "E-mail not sent" in client.get("/staff/appointments/").text
    page = client.get("/staff/admin/jobs/").text
    assert "SMTPAuthenticationError" in page and not secrets_in(page)
    # The clinic fixes the password; an administrator runs the job again.
    app.config["SMTP_PASSWORD"] = PASSWORD
    assert client.post(f"/staff/admin/jobs/{failure.id}/retry", data={"csrf_token": csrf(page)}).status_code == 302
    run_queue(app)
    assert len(server.received) == 1 and statuses(app) == [("invitation", "sent")]
    assert server.logins[-1][1:3] == (USERNAME, True) and server.mail_from[-1][2] == USERNAME
    # Neither password is anywhere: not in the log (with tracebacks), nor in any file the app wrote
    # (the database with outbound_mail and job_failures, its journal, the job queue, the mail folder).
    assert caplog.records and not secrets_in(app_log(caplog))
    with app.extensions["intake.store"].engine.connect() as conn:
        rows = [conn.execute(sql(f"SELECT * FROM {table}")).all() for table in ("outbound_mail", "job_failures")]
    assert rows[0] and rows[1] and not secrets_in(repr(rows))
    app.extensions["intake.store"].engine.dispose()
    written = [path for path in tmp_path.rglob("*") if path.is_file() and path.parent.name != "certs"]
    assert any(path.name == "intake.sqlite3" for path in written)
    for path in written:
        content = path.read_bytes()
        assert not [s for s in (PASSWORD, WRONG_PASSWORD) if s.encode() in content], path.name


@AIOSMTPD_WARNINGS
@pytest.mark.parametrize("tls, problem", [("starttls", "no CA file: the system trust store does not know it"),
                                         ("ssl", "no CA file: the system trust store does not know it"),
                                         ("starttls", "a trusted CA, but a certificate for another host")])
def test_a_server_certificate_the_app_does_not_trust_is_refused_before_anything_is_said(tmp_path, migrated_sqlite,
                                                                                         smtp_server, tls, problem):
    wrong_name = problem.endswith("another host")
    certs = make_certs(tmp_path / "certs", dns_names=("mail.elsewhere.test",) if wrong_name else ("localhost",),
                       ip_addresses=() if wrong_name else ("127.0.0.1",))
    server = (smtp_server(starttls=certs, login=(USERNAME, PASSWORD)) if tls == "starttls"
              else smtp_server(implicit_tls=certs, login=(USERNAME, PASSWORD)))
    app = mail_app_for(tmp_path, migrated_sqlite, server, SMTP_STARTTLS=True, SMTP_SSL=tls == "ssl",
                       SMTP_CA_FILE=str(certs.ca_file) if wrong_name else "",
                       SMTP_USERNAME=USERNAME, SMTP_PASSWORD=PASSWORD)
    mail_id = invite(app)
    assert server.received == [] and server.mail_from == [] and server.logins == [], "nothing said, no password"
    with app.extensions["intake.store"].reading() as session:
        row = session.get(OutboundMail, mail_id)
        assert (row.status, row.error) == ("failed", "SSLCertVerificationError")
        (failure,) = session.scalars(select(JobFailure))
    assert failure.error == f"e-mail {mail_id} (invitation) not sent: SSLCertVerificationError", "a class, no text"
    app.extensions["intake.store"].engine.dispose()


@AIOSMTPD_WARNINGS
def test_starttls_asked_for_and_not_offered_is_refused_and_nothing_goes_in_clear(tmp_path, migrated_sqlite,
                                                                                 smtp_server):
    server = smtp_server(login=(USERNAME, PASSWORD), auth_in_clear=True)  # no STARTTLS; AUTH offered in clear
    app = mail_app_for(tmp_path, migrated_sqlite, server, SMTP_STARTTLS=True, SMTP_USERNAME=USERNAME,
                       SMTP_PASSWORD=PASSWORD)
    mail_id = invite(app)
    assert server.logins == [] and server.mail_from == [] and server.received == [], "no password, no MAIL in clear"
    with app.extensions["intake.store"].reading() as session:
        assert session.get(OutboundMail, mail_id).error == "SMTPNotSupportedError"
    app.extensions["intake.store"].engine.dispose()


def test_mail_status_says_when_the_ca_file_is_missing(tmp_path, migrated_sqlite):
    app = mail_app_for(tmp_path, migrated_sqlite, None, SMTP_HOST="mail.clinic.test", SMTP_PORT=587,
                       SMTP_CA_FILE=str(tmp_path / "clinic-ca.pem"), SMTP_PASSWORD="s3cret-pw")
    said = app.test_cli_runner().invoke(args=["mail-status"]).output
    assert "SMTP mail.clinic.test:587 (STARTTLS)" in said and "s3cret-pw" not in said
    assert f"CA file {tmp_path / 'clinic-ca.pem'} (INTAKE_SMTP_CA_FILE), which cannot be found" in said
    app.extensions["intake.store"].engine.dispose()


def test_a_login_without_tls_goes_only_to_a_relay_on_this_machine(tmp_path, migrated_sqlite, monkeypatch):
    connections: list[str] = []

    class NoNetwork:
        def __init__(self, host, *args, **kwargs):
            connections.append(host)
            raise OSError("the test refuses to connect anywhere")

    monkeypatch.setattr("smtplib.SMTP", NoNetwork)
    app = mail_app_for(tmp_path, migrated_sqlite, None, SMTP_HOST="mail.clinic.test", SMTP_PORT=25,
                       SMTP_STARTTLS=False, SMTP_USERNAME=USERNAME, SMTP_PASSWORD=PASSWORD)
    said = app.test_cli_runner().invoke(args=["mail-status"]).output
    assert "(no TLS)" in said and "a login without TLS would send the password in clear" in said
    assert PASSWORD not in said
    mail_id = invite(app)
    assert connections == [], "refused before connecting: the password never left"
    with app.extensions["intake.store"].reading() as session:
        assert session.get(OutboundMail, mail_id).error == "PlainTextLoginRefused"
    app.config["SMTP_HOST"] = "127.0.0.1"  # a local relay (postfix on the same machine) may take a plain login
    assert "password in clear" not in app.test_cli_runner().invoke(args=["mail-status"]).output
    app.extensions["intake.store"].engine.dispose()


def test_a_server_that_fails_its_goodbye_after_taking_the_message_gets_it_once(tmp_path, migrated_sqlite, smtp):
    """smtplib's `with` raises on a QUIT reply other than 221, after the message was taken: the job then sent it again."""
    smtp.quit_reply = "421 4.3.0 Closing after a hiccup"
    app = mail_app_for(tmp_path, migrated_sqlite, smtp, JOBS_IMMEDIATE=False)
    invite(app)
    run_queue(app)
    run_queue(app, include_scheduled=True)  # any retry would run now
    assert len(smtp.received) == 1 and statuses(app) == [("invitation", "sent")], "sent once, not retried"
    app.extensions["intake.store"].engine.dispose()


# --- telling the patient of a change or a cancellation, from the staff pages ---------------------------------------

ANSWERS = ("levothyroxine", "penicillin", "botox", "1986", "lidocaine")  # in the earlier form (tests.walk.EXPECTED)


def staff_client(app):
    client = app.test_client()
    assert login(client, make_user(app, "staff").email).status_code == 302
    return client


def staff_post(client, path: str, data: dict, page: str, **kwargs):
    token = csrf(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def cancel(client, appointment_id: int, **data):
    edit = f"/staff/appointments/{appointment_id}/edit"
    return staff_post(client, f"/staff/appointments/{appointment_id}/cancel", data, edit, follow_redirects=True)


def restore(client, appointment_id: int):
    edit = f"/staff/appointments/{appointment_id}/edit"
    return staff_post(client, f"/staff/appointments/{appointment_id}/restore", {}, edit, follow_redirects=True)


def change(client, app, appointment_id: int, *, visit: dt.datetime | None = None, **data):
    """Post the change form as the page has it, with the visit moved to `visit` (clinic time: UTC here)."""
    with app.app_context():
        current = appointment_rows.get(app.extensions["intake.store"], appointment_id)
    visit = visit or current.visit_at
    form = {"name": current.patient_name, "email": current.email or "", "mobile": current.mobile or "",
            "date": visit.date().isoformat(), "time": visit.strftime("%H:%M"), "treatments": current.treatments,
            "language": current.language, "earlier": "", **data}
    edit = f"/staff/appointments/{appointment_id}/edit"
    return staff_post(client, edit, form, edit, follow_redirects=True)


def html_text(page: str) -> str:
    import html

    return html.unescape(page)


def book_on_the_minute(app, **kwargs) -> int:
    """book(), with the visit on a whole minute, as the staff forms and the CSV import make it."""
    appointment_id = book(app, **kwargs)
    with app.extensions["intake.store"].writing() as session:
        row = session.get(Appointment, appointment_id)
        row.visit_at = row.visit_at.replace(second=0, microsecond=0)
    return appointment_id


def audited(app, action: str) -> list[dict]:
    from tests.staff_support import audit_rows

    return [row.detail for row in audit_rows(app) if row.action == action]


def link_earlier_form(app, appointment_id: int) -> None:
    """Bind an earlier form full of answers to the appointment: none of them may reach the e-mail."""
    earlier = add_submission(app)
    with app.extensions["intake.store"].writing() as session:
        session.execute(update(Appointment).where(Appointment.id == appointment_id)
                        .values(earlier_submission_id=earlier.id))


@pytest.mark.parametrize(("language", "subject", "said"), [
    ("en", "Your visit to Test Clinic on {date} is cancelled",
     ("Your visit to Test Clinic is cancelled.", "Cancelled visit",
      "If you did not ask for this, or want a new appointment, contact the clinic.")),
    ("es", "Su visita a Test Clinic del {date} se ha cancelado",
     ("Su visita a Test Clinic se ha cancelado.", "Visita cancelada",
      "Si no lo ha pedido usted, o desea una nueva cita, póngase en contacto con la clínica.")),
])
def test_a_cancellation_with_the_box_ticked_tells_the_patient_once_with_no_link_and_nothing_about_health(
        mail_app, smtp, language, subject, said):
    from babel.dates import format_date, format_time

    appointment_id = book(mail_app, hours_ahead=96, language=language, treatments="microneedling")
    link_earlier_form(mail_app, appointment_id)
    client = staff_client(mail_app)
    page = client.get(f"/staff/appointments/{appointment_id}/edit").text
    assert "E-mail the patient that the visit is cancelled" in page
    done = cancel(client, appointment_id, notify="1")
    assert "The appointment is cancelled." in done.text and "The e-mail telling the patient is on its way." in done.text
    (sender, recipients, message), = smtp.received
    assert recipients == ["maria.lopez@example.com"] and message["Content-Language"] == language
    assert message.get_content_type() == "multipart/alternative"
    with mail_app.app_context():
        visit = appointment_rows.get(mail_app.extensions["intake.store"], appointment_id).visit_at
    date, time = format_date(visit.date(), format="full", locale=language), format_time(visit, "short", locale=language)
    assert message["Subject"] == subject.format(date=format_date(visit.date(), format="long", locale=language))
    text, html_part = parts(message)
    for body in (text, html_part):
        assert "Test Clinic" in body and date in body and time in body
        assert "+1 555 010 2000" in body and "hello@clinic.test" in body, "the clinic's contact block"
        for sentence in said:
            assert sentence in body
        assert "This link is personal" not in body and "Este enlace es personal" not in body, "there is no link"
    everything = whole_text(message)
    assert "/i/" not in everything and "http" not in everything, "no link"
    assert "maria" not in everything and "lopez" not in everything, "no name"
    assert not [w for w in HEALTH_WORDS if w in everything], "no treatment, no health information"
    assert not [a for a in ANSWERS if a in everything], "no answer from the patient's earlier form"
    # A double click (or Back and cancel again) sends nothing more.
    again = cancel(client, appointment_id, notify="1")
    assert "already cancelled" in again.text and len(smtp.received) == 1
    assert statuses(mail_app) == [("cancelled", "sent")]
    assert audited(mail_app, "cancellation_queued") == [{"appointment_id": appointment_id, "queued": True}]


def test_a_cancellation_without_the_box_sends_nothing(mail_app, smtp):
    appointment_id = book(mail_app, hours_ahead=96)
    done = cancel(staff_client(mail_app), appointment_id)
    assert "Nothing was sent to the patient." in done.text
    assert smtp.received == [] and statuses(mail_app) == [] and audited(mail_app, "cancellation_queued") == []


def test_a_visit_restored_before_the_job_runs_sends_nothing_and_a_second_cancellation_sends_its_own(
        tmp_path, migrated_sqlite, smtp):
    app = mail_app_for(tmp_path, migrated_sqlite, smtp, JOBS_IMMEDIATE=False)
    appointment_id = book(app, hours_ahead=96)
    client = staff_client(app)
    cancel(client, appointment_id, notify="1")
    assert "restored" in restore(client, appointment_id).text
    run_queue(app)
    assert smtp.received == [] and statuses(app) == [("cancelled", "cancelled")], "the visit stands: nothing said"
    # Cancelled again, then restored and cancelled once more before the queue runs: only the last one is told.
    cancel(client, appointment_id, notify="1")
    restore(client, appointment_id)
    cancel(client, appointment_id, notify="1")
    run_queue(app)
    assert len(smtp.received) == 1 and smtp.messages[0]["Subject"].startswith("Your visit to Test Clinic on ")
    assert statuses(app) == [("cancelled", "cancelled"), ("cancelled", "cancelled"), ("cancelled", "sent")]
    app.extensions["intake.store"].engine.dispose()


def test_a_changed_date_with_the_box_ticked_sends_the_invitation_again_with_the_new_time_and_a_working_link(
        mail_app, smtp):
    from babel.dates import format_date

    appointment_id = book(mail_app, hours_ahead=96, invited_hours_ago=2)
    client = staff_client(mail_app)
    assert "E-mail the patient the new date and time" in client.get(f"/staff/appointments/{appointment_id}/edit").text
    new_visit = dt.datetime.combine(dt.date.today() + dt.timedelta(days=9), dt.time(16, 45), dt.UTC)
    done = change(client, mail_app, appointment_id, visit=new_visit, notify="1")
    assert "The appointment is changed." in done.text
    assert "The patient is being e-mailed the new date and time, with a fresh link." in html_text(done.text)
    (message,) = smtp.messages
    assert message["Subject"] == "Your visit to Test Clinic: your form"
    text, html_part = parts(message)
    for body in (text, html_part):
        assert format_date(new_visit.date(), format="full", locale="en") in body and "4:45" in body
        assert "This link is personal: please do not forward this email." in body
    token = LINK.search(text).group(1)
    store = mail_app.extensions["intake.store"]
    with mail_app.app_context():
        assert appointments.by_token(store, token).id == appointment_id
    phone = mail_app.test_client()
    opened = phone.get(f"/i/{token}")
    assert opened.status_code == 302 and phone.get(opened.location).status_code == 200, "the link works"
    assert audited(mail_app, "invitation_queued") == [{"appointment_id": appointment_id, "queued": True}]


def test_a_change_sends_nothing_when_the_date_stays_or_the_box_is_not_ticked(mail_app, smtp):
    appointment_id = book_on_the_minute(mail_app, hours_ahead=96, invited_hours_ago=2)
    client = staff_client(mail_app)
    same = change(client, mail_app, appointment_id, notify="1")
    assert "Nothing was changed. No e-mail was sent." in same.text
    other = change(client, mail_app, appointment_id, mobile="+34 600 123 456", notify="1")
    assert "No e-mail was sent: the date and time did not change." in other.text
    later = dt.datetime.combine(dt.date.today() + dt.timedelta(days=9), dt.time(9, 15), dt.UTC)
    unticked = change(client, mail_app, appointment_id, visit=later)
    assert "The appointment is changed." in unticked.text and "Resend" in html_text(unticked.text)
    assert smtp.received == [] and statuses(mail_app) == [] and audited(mail_app, "invitation_queued") == []
    with mail_app.app_context():
        assert appointment_rows.get(mail_app.extensions["intake.store"], appointment_id).visit_at == later


def test_the_boxes_are_shown_only_where_an_email_could_go(mail_app, smtp):
    client = staff_client(mail_app)
    no_address = book(mail_app, hours_ahead=96, email_address=None)
    page = client.get(f"/staff/appointments/{no_address}/edit").text
    assert 'name="notify"' not in page and "tell them yourself" in html_text(page)
    with_address = book(mail_app, hours_ahead=96)
    page = client.get(f"/staff/appointments/{with_address}/edit").text
    assert page.count('name="notify"') == 2
    assert not re.search(r'name="notify"[^>]*checked', page), "neither box is ticked by default"
    cancel(client, with_address)
    page = client.get(f"/staff/appointments/{with_address}/edit").text
    assert 'name="notify"' not in page, "a cancelled visit: no new date to send, nothing more to cancel"
