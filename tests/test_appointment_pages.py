"""Appointment pages: staff add, list, import (preview, errors by row), send and link; the patient's invitation landing."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import logging
import re

import pytest
from sqlalchemy import select

from intake import appointments
from intake.models import Appointment, Draft, utcnow
from intake.store import appointments as rows
from intake.store import drafts
from tests import staff_support
from tests.conftest import hidden_fields
from tests.staff_support import actions, add_submission, csrf, post
from tests.walk import PAGES, SECTIONS

users, as_role = staff_support.users, staff_support.as_role  # fixtures
TOMORROW = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)  # the tests run in UTC clinic time


def store(app):
    return app.extensions["intake.store"]


def make(app, **overrides):
    fields = {"patient_name": "Maria López", "email": "maria@example.org", "mobile": "+34 600 123 456",
              "visit_at": dt.datetime.combine(TOMORROW, dt.time(10, 30), dt.UTC), "treatments": "neurotoxin"}
    with app.app_context():
        return appointments.create(store(app), **{**fields, **overrides})


def all_appointments(app) -> list[Appointment]:
    with store(app).reading() as session:
        return list(session.scalars(select(Appointment).order_by(Appointment.id)))


def form(**overrides):
    return {"name": "Ana García", "email": "ana@example.org", "mobile": "", "date": TOMORROW.isoformat(), "time": "09:15",
            "treatments": "both", "language": "es", "earlier": "", "send": "later", **overrides}


# --- staff pages ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["staff", "physician", "admin"])
def test_every_staff_role_sees_the_appointments_and_the_visit_is_audited(app, as_role, role):
    make(app)
    client = as_role(role)
    page = client.get("/staff/appointments/")
    assert page.status_code == 200
    assert "Maria López" in html.unescape(page.text) and "Tomorrow" in page.text and "Not sent" in page.text
    assert "appointments_viewed" in actions(app)


def test_signed_out_people_are_sent_to_sign_in(app, client):
    make(app)
    for path in ("/staff/appointments/", "/staff/appointments/new", "/staff/appointments/import"):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.location
    assert client.post("/staff/appointments/1/link").status_code in (302, 400)
    assert "Maria" not in client.get("/staff/appointments/", follow_redirects=True).text


def test_posts_without_the_csrf_token_change_nothing(app, as_role):
    appointment = make(app)
    client = as_role("staff")
    client.post("/staff/appointments/new", data=form())
    client.post(f"/staff/appointments/{appointment.id}/link")
    client.post(f"/staff/appointments/{appointment.id}/send")
    [only] = all_appointments(app)
    assert only.token_hash is None and only.invited_at is None


def test_adding_an_appointment_stores_it_encrypted_and_audited(app, as_role):
    client = as_role("staff")
    response = post(client, "/staff/appointments/new", form(), page="/staff/appointments/new")
    assert response.status_code == 302
    [appointment] = all_appointments(app)
    assert (appointment.patient_name, appointment.email, appointment.treatments, appointment.language) == (
        "Ana García", "ana@example.org", "both", "es")
    assert appointment.invited_at is None and appointment.created_by is not None
    assert "appointment_added" in actions(app)


def test_the_add_form_shows_each_error_next_to_its_field_and_in_a_summary(app, as_role):
    client = as_role("staff")
    page = post(client, "/staff/appointments/new", form(name="", email="", mobile="", date="31/02/2026", time="25:99",
                                                         treatments=""), page="/staff/appointments/new")
    assert page.status_code == 422
    text = html.unescape(page.text)
    assert 'class="error-summary"' in page.text
    for message in ("Enter the patient’s name.", "at least one", "Enter the date like", "Enter the time like",
                    "Choose the treatments"):
        assert message in text
        assert text.count(message) == 2  # in the summary and next to the field
    assert 'aria-invalid="true"' in page.text
    assert all_appointments(app) == []


def test_sending_now_needs_an_email_address(app, as_role):
    client = as_role("staff")
    page = post(client, "/staff/appointments/new", form(email="", mobile="+34 600 000 000", send="now"),
                page="/staff/appointments/new")
    assert page.status_code == 422 and "To send the invitation now, enter an e-mail address" in html.unescape(page.text)


def test_a_past_visit_and_an_unknown_earlier_reference_are_refused(app, as_role):
    client = as_role("staff")
    past = (TOMORROW - dt.timedelta(days=3)).isoformat()
    page = post(client, "/staff/appointments/new", form(date=past, earlier="ZZZ-ZZZ"), page="/staff/appointments/new")
    assert "This visit is in the past" in page.text
    page = post(client, "/staff/appointments/new", form(earlier="ZZZ-ZZZ"), page="/staff/appointments/new")
    assert "No form has this reference" in page.text


def test_an_earlier_submission_is_named_by_its_reference(app, as_role):
    earlier = add_submission(app)
    client = as_role("staff")
    post(client, "/staff/appointments/new", form(earlier=earlier.reference.lower().replace("-", "")),
         page="/staff/appointments/new")
    [appointment] = all_appointments(app)
    assert appointment.earlier_submission_id == earlier.id


def test_send_now_marks_invited_and_calls_the_mailer(app, as_role, monkeypatch):
    from intake.appointments import notify

    queued = []
    monkeypatch.setattr(notify, "mailer", lambda: queued.append)
    client = as_role("staff")
    post(client, "/staff/appointments/new", form(send="now"), page="/staff/appointments/new")
    [appointment] = all_appointments(app)
    assert queued == [appointment.id] and appointment.invited_at is not None
    page = client.get("/staff/appointments/")
    assert "Invited" in page.text and "Resend" in page.text
    post(client, f"/staff/appointments/{appointment.id}/send", page="/staff/appointments/")
    assert queued == [appointment.id, appointment.id]
    assert actions(app).count("invitation_queued") == 2


def test_link_and_qr_issue_a_fresh_link_and_the_old_one_stops_working(app, as_role):
    appointment = make(app)
    with app.test_request_context():
        old = appointments.issue_token(store(app), appointment)
    client = as_role("staff")
    page = post(client, f"/staff/appointments/{appointment.id}/link", page="/staff/appointments/")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    url = re.search(r'id="invite-url" type="text" readonly value="([^"]+)"', page.text).group(1)
    token = url.rsplit("/i/", 1)[1]
    assert appointments.by_token(store(app), token).id == appointment.id
    assert appointments.by_token(store(app), old) is None
    assert 'src="data:image/svg+xml' in page.text and "invitation_link_shown" in actions(app)
    # The QR code holds the link and nothing else: no name in it, and it decodes to the same text segno made.
    import segno
    assert segno.make(url, error="m").svg_data_uri(scale=5, border=4, dark="#1d2733") in html.unescape(page.text)


def test_overdue_visits_stand_out_in_words(app, as_role):
    make(app, visit_at=utcnow() + dt.timedelta(hours=3), patient_name="Soon Patient")
    make(app, visit_at=utcnow() + dt.timedelta(days=5), patient_name="Later Patient")
    page = as_role("staff").get("/staff/appointments/").text
    assert "1 visit within 24 hours has no form yet" in page
    assert page.count("No form yet</span>") == 1
    soon_row = re.search(r'<tr class="row-overdue">.*?</tr>', page, re.S).group(0)
    assert "Soon Patient" in soon_row


# --- CSV import -----------------------------------------------------------------------------------------------------

CSV = ("Client Name;E-mail Address;Mobile Phone;Appointment Date;Start Time;Service\n"
       f"Lucía Pérez;lucia@example.org;+34 600 111 222;{TOMORROW.strftime('%d/%m/%Y')};10:00;Botox\n"
       f"No Contact;;;{TOMORROW.isoformat()};11:00;\n"
       f"Bad Date;bad@example.org;;2026-13-45;12:00;consultation\n"
       "\n"
       f"Pedro Ruiz;pedro@example;;{TOMORROW.isoformat()};3:30 pm;micro-needling\n"
       f"Jorge Díaz;jorge@example.org;;{TOMORROW.isoformat()};16:45;\n")


def upload(client, data: bytes, **options):
    page = client.get("/staff/appointments/import")
    return client.post("/staff/appointments/import", data={"csrf_token": csrf(page.text), "treatments": "consultation",
                                                           "language": "es", **options,
                                                           "file": (io.BytesIO(data), "export.csv")},
                       content_type="multipart/form-data")


def test_the_import_previews_every_row_with_its_own_errors_and_stores_nothing(app, as_role):
    client = as_role("staff")
    page = upload(client, CSV.encode("utf-8-sig"))
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "2 of 5 rows can be imported" in text
    line = {n: re.search(rf'<tr[^>]*id="line-{n}">.*?</tr>', text, re.S).group(0) for n in (2, 3, 4, 6, 7)}
    assert "Ready" in line[2] and "Lucía Pérez" in line[2] and "Neurotoxin" in line[2]
    assert "at least one" in line[3] and 'class="row-error"' in line[3]
    assert "Enter the date like" in line[4]
    assert "Enter an e-mail address like" in line[6]  # the blank line 5 is skipped, the numbering follows the file
    assert "Ready" in line[7] and "Consultation only" in line[7]  # the default for rows that do not say
    assert all_appointments(app) == []
    assert "appointments_import_previewed" in actions(app)


def test_confirming_imports_the_good_rows_once(app, as_role):
    client = as_role("staff")
    preview = upload(client, CSV.encode())
    fields = {k: html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', preview.text)}
    done = client.post("/staff/appointments/import", data=fields, follow_redirects=True)
    assert "2 appointments added. 3 rows with errors were not imported." in html.unescape(done.text)
    names = sorted(a.patient_name for a in all_appointments(app))
    assert names == ["Jorge Díaz", "Lucía Pérez"]
    lucia = next(a for a in all_appointments(app) if a.patient_name == "Lucía Pérez")
    assert lucia.visit_at.astimezone(dt.UTC).date() == TOMORROW and lucia.language == "es"
    again = client.post("/staff/appointments/import", data=fields)  # a double click
    assert again.status_code == 302 and len(all_appointments(app)) == 2
    assert "This file was imported already." in html.unescape(client.get("/staff/appointments/").text)
    assert "appointments_imported" in actions(app)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "The file is empty."),
    (b"foo,bar\n1,2\n", "The first line must name the columns"),
    (b"name,date\n", "no appointments"),
    (b"name,date,time\n" + b"x,2030-01-01,10:00\n" * 20000, "too large"),
    (b"name,date,time\n" + b"Al,2030-01-01,10:00\n" * 600, "more than 500"),
])
def test_a_file_that_cannot_be_used_says_why(app, as_role, data, message):
    page = upload(as_role("staff"), data)
    assert page.status_code == 422 and message in html.unescape(page.text)


def test_a_tampered_preview_is_checked_again(app, as_role):
    client = as_role("staff")
    page = client.get("/staff/appointments/import")
    rows_json = json.dumps([{"name": "X\u0000Y", "email": "x@example.org", "date": TOMORROW.isoformat(), "time": "10:00"},
                            {"name": "Fine Person", "email": "f@example.org", "date": TOMORROW.isoformat(),
                             "time": "10:00", "treatments": "hack"}])
    client.post("/staff/appointments/import", data={"csrf_token": csrf(page.text), "action": "confirm", "batch": "b1",
                                                    "rows": rows_json, "treatments": "evil", "language": "xx"})
    assert all_appointments(app) == []


# --- the patient's landing ------------------------------------------------------------------------------------------

def issue(app, appointment) -> str:
    with app.test_request_context():
        return appointments.issue_token(store(app), appointment)


def test_an_unknown_or_expired_link_gets_a_friendly_page_without_a_hint(app, client):
    appointment = make(app, visit_at=utcnow() + dt.timedelta(hours=1))
    token = issue(app, appointment)
    unknown = client.get("/i/" + "A" * 43)
    with store(app).writing() as session:
        session.get(Appointment, appointment.id).token_expires_at = utcnow() - dt.timedelta(seconds=1)
    expired = client.get(f"/i/{token}")
    assert unknown.status_code == expired.status_code == 404
    assert unknown.text == expired.text and "This link no longer works" in unknown.text
    assert client.get("/i/" + "x" * 500).status_code == 404


def test_the_link_opens_a_prefilled_form_bound_to_the_appointment(app, client):
    appointment = make(app)
    token = issue(app, appointment)
    response = client.get(f"/i/{token}")
    assert response.status_code == 302 and token not in response.location
    page = client.get(response.location)
    assert 'value="Maria"' in page.text and 'value="López"' in page.text
    assert 'value="maria@example.org"' in page.text and 'value="+34 600 123 456"' in page.text
    assert f'value="{TOMORROW.isoformat()}"' in page.text
    row = rows.row(store(app), appointment.id)
    assert row.appointment.draft_id is not None and row.appointment.opened_at is not None
    assert appointments.status(row) == "opened"
    # Opening it again resumes the same draft, not a new one.
    client.get(f"/i/{token}")
    with store(app).reading() as session:
        assert len(session.scalars(select(Draft)).all()) == 1


def test_the_invitation_opens_in_the_patients_language(app):
    appointment = make(app, language="es")
    client = app.test_client()
    page = client.get(client.get(f"/i/{issue(app, appointment)}").location)
    assert 'lang="es"' in page.text


def test_submitting_binds_the_submission_and_the_link_then_says_it_arrived(app, client):
    from tests.conftest import Patient

    appointment = make(app)
    token = issue(app, appointment)
    patient = Patient(client)
    client.get(f"/i/{token}")
    for section_id in SECTIONS:
        assert patient.post(section_id, PAGES[section_id]).status_code == 302, section_id
    row = rows.row(store(app), appointment.id)
    assert appointments.status(row) == "in progress"
    assert patient.post("consent", PAGES["consent"]).location.endswith("/intake/thanks")
    row = rows.row(store(app), appointment.id)
    assert row.appointment.submission_id is not None and row.reference and row.appointment.draft_id is None
    assert appointments.status(row) == "submitted"
    again = app.test_client().get(f"/i/{token}")
    assert again.status_code == 200 and "Your form has arrived" in again.text
    assert "Maria" not in again.text


def test_a_returning_patients_invitation_uses_the_carry_forward_entry_point(app, client, monkeypatch):
    from intake.appointments import landing

    earlier = add_submission(app)
    appointment = make(app, earlier_submission_id=earlier.id)
    calls = []

    def start_carried(store_, earlier_id, *, language, prefill, appointment_id):
        calls.append((earlier_id, prefill["first_name"], appointment_id))
        return drafts.create(store_, "about-you", language, answers=prefill)

    monkeypatch.setattr(landing, "carried_draft_starter", lambda: start_carried)
    assert client.get(f"/i/{issue(app, appointment)}").status_code == 302
    assert calls == [(earlier.id, "Maria", appointment.id)]
    assert rows.get(store(app), appointment.id).draft_id is not None


def test_the_invitation_token_never_reaches_the_logs(app, client, caplog):
    from intake import redact

    caplog.set_level(logging.DEBUG)
    token = issue(app, make(app))
    client.get(f"/i/{token}")
    client.get("/i/not-a-real-token")
    record = logging.LogRecord("werkzeug", logging.INFO, "", 0, '%s - - "%s" %s',
                               ("127.0.0.1", f"GET /i/{token} HTTP/1.1", "302"), None)
    redact.RedactingFilter().filter(record)
    assert token not in record.getMessage() and "/i/[redacted]" in record.getMessage()
    assert token not in caplog.text


def test_the_landing_is_rate_limited(tmp_path, migrated_sqlite):
    import shutil

    from tests.conftest import make_app

    shutil.copy(migrated_sqlite, tmp_path / "intake.sqlite3")
    limited = make_app(tmp_path, f"sqlite:///{tmp_path / 'intake.sqlite3'}", RATELIMIT_RESUME="3 per minute")
    client = limited.test_client()
    codes = [client.get(f"/i/guess{n}").status_code for n in range(5)]
    assert codes[:3] == [404, 404, 404] and codes[3:] == [429, 429]
    limited.extensions["intake.store"].engine.dispose()


def test_the_prefilled_page_posts_like_any_other(app, client):
    appointment = make(app)
    client.get(f"/i/{issue(app, appointment)}")
    page = client.get("/intake/about-you")
    assert hidden_fields(page.text)["csrf_token"]


def test_the_invitation_pages_speak_spanish(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    assert "Este enlace ya no funciona" in client.get("/i/unknown-link").text
    appointment = make(app, language="es")
    page = client.get(client.get(f"/i/{issue(app, appointment)}").location)
    assert "Rellenamos lo que sabemos por su cita" in html.unescape(page.text)


def test_send_now_writes_the_invitation_whose_link_opens_the_form(app, as_role):
    import email
    import email.policy
    from pathlib import Path

    client = as_role("staff")
    done = post(client, "/staff/appointments/new", form(send="now"), page="/staff/appointments/new", follow_redirects=True)
    assert "The invitation e-mail is on its way." in html.unescape(done.text)
    [eml] = (Path(app.instance_path) / "mail").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"] == "ana@example.org"
    text = message.get_body(("plain",)).get_content()
    token = re.search(r"/i/([\w-]+)", text).group(1)
    [appointment] = all_appointments(app)
    assert appointments.by_token(store(app), token).id == appointment.id
    assert "Ana" not in text  # no name: the clinic, the visit, the link
    patient = app.test_client()
    assert patient.get(f"/i/{token}").location.endswith("/intake/about-you")


def test_the_dashboard_counts_visits_within_a_day_without_a_form(app, as_role):
    make(app, visit_at=utcnow() + dt.timedelta(hours=2))
    make(app, visit_at=utcnow() + dt.timedelta(hours=20))
    make(app, visit_at=utcnow() + dt.timedelta(hours=30))
    page = as_role("staff").get("/staff/").text
    card = re.search(r'<a class="stat stat-warn" href="/staff/appointments/">.*?</a>', page, re.S).group(0)
    assert "⚠" in card and ">2</span> no form yet, visit within 24 h" in card


def test_the_day_view_reads_a_range_of_the_visit_index(app):
    from sqlalchemy import text

    with store(app).engine.connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT id FROM appointments WHERE visit_at >= '2026-01-01' AND visit_at < '2026-01-03' "
            "ORDER BY visit_at, id")))
    assert "ix_appointments_visit_at" in plan and "SCAN appointments" not in plan


def test_an_idle_invitation_form_locks_on_a_shared_device_and_the_link_opens_it_again(app, client):
    appointment = make(app)
    token = issue(app, appointment)
    client.get(f"/i/{token}")
    assert client.get("/intake/about-you").status_code == 200
    with client.session_transaction() as session:
        session["draft_seen"] -= 3600  # an hour without a touch: the next person at this device
    locked = client.get("/intake/about-you")
    assert locked.status_code == 302 and locked.location == "/"
    # No date of birth given yet, so nothing can unlock it here: the device forgets it and names no one.
    start = html.unescape(client.get("/").text)
    assert "A form was started on this device earlier" in start
    assert "Maria" not in start and "López" not in start and "maria@example.org" not in start
    assert client.get("/intake/about-you").status_code == 302
    reopened = client.get(f"/i/{token}")
    assert reopened.location.endswith("/intake/about-you") and client.get("/intake/about-you").status_code == 200


def test_the_dashboard_says_nothing_of_appointments_when_none_lack_a_form(app, as_role):
    make(app, visit_at=utcnow() + dt.timedelta(days=3))
    assert "no form yet, visit within 24 h" not in as_role("staff").get("/staff/").text


def test_an_import_can_send_the_invitations_to_those_with_an_email(app, as_role, monkeypatch):
    from intake.appointments import notify

    queued = []
    monkeypatch.setattr(notify, "mailer", lambda: lambda appointment_id: queued.append(appointment_id) or len(queued))
    client = as_role("staff")
    data = (f"name,email,phone,date,time\nWith Mail,w@example.org,,{TOMORROW.isoformat()},10:00\n"
            f"Phone Only,,+34 600 000 111,{TOMORROW.isoformat()},11:00\n").encode()
    preview = upload(client, data, send="1")
    fields = {k: html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', preview.text)}
    done = client.post("/staff/appointments/import", data=fields, follow_redirects=True)
    assert "2 appointments added, 1 invitation on the way." in html.unescape(done.text)
    with_mail = next(a for a in all_appointments(app) if a.patient_name == "With Mail")
    assert queued == [with_mail.id] and with_mail.invited_at is not None


# --- change, cancel, restore ----------------------------------------------------------------------------------------

def edit_form(**overrides):
    """The change form as the prefilled page of make()'s appointment holds it."""
    return {"name": "Maria López", "email": "maria@example.org", "mobile": "+34 600 123 456",
            "date": TOMORROW.isoformat(), "time": "10:30", "treatments": "neurotoxin", "language": "en", "earlier": "",
            **overrides}


def audited(app, action: str) -> list[dict]:
    return [row.detail for row in staff_support.audit_rows(app) if row.action == action]


def test_the_change_form_is_the_add_form_prefilled_and_opening_it_is_audited(app, as_role):
    appointment = make(app)
    page = as_role("staff").get(f"/staff/appointments/{appointment.id}/edit")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = html.unescape(page.text)
    for value in ("Maria López", "maria@example.org", "+34 600 123 456", TOMORROW.isoformat(), "10:30"):
        assert f'value="{value}"' in text
    assert re.search(r'value="neurotoxin" checked', page.text) and re.search(r'name="language" value="en" checked', page.text)
    assert 'name="earlier"' in page.text and 'name="send"' not in page.text
    assert audited(app, "appointment_opened") == [{"appointment_id": appointment.id}]


def test_a_change_with_errors_shows_them_next_to_the_fields_and_keeps_what_was_typed(app, as_role):
    appointment = make(app)
    client = as_role("staff")
    path = f"/staff/appointments/{appointment.id}/edit"
    page = post(client, path, edit_form(name="", email="maria@", mobile="", date="31/02/2026", time="9h99"), page=path)
    assert page.status_code == 422
    text = html.unescape(page.text)
    assert 'class="error-summary"' in page.text and 'aria-invalid="true"' in page.text
    for message in ("Enter the patient’s name.", "Enter an e-mail address like", "Enter the date like",
                    "Enter the time like"):
        assert text.count(message) == 2, message  # in the summary and next to the field
    assert 'value="maria@"' in text and 'value="31/02/2026"' in text and 'value="9h99"' in text
    [unchanged] = all_appointments(app)
    assert (unchanged.patient_name, unchanged.email, unchanged.visit_at) == (
        "Maria López", "maria@example.org", appointment.visit_at)
    assert audited(app, "appointment_changed") == []


def test_a_valid_change_updates_the_row_and_the_audit_names_the_fields_not_the_values(app, as_role):
    appointment = make(app)
    client = as_role("staff")
    path = f"/staff/appointments/{appointment.id}/edit"
    done = post(client, path, edit_form(name="María López Ruiz", email="maria.ruiz@example.org", mobile="",
                                        treatments="both"), page=path)
    assert done.status_code == 302 and done.location.endswith("/staff/appointments/")
    [changed] = all_appointments(app)
    assert (changed.patient_name, changed.email, changed.mobile, changed.treatments) == (
        "María López Ruiz", "maria.ruiz@example.org", None, "both")
    assert changed.visit_at == appointment.visit_at and changed.language == "en"
    [detail] = audited(app, "appointment_changed")
    assert detail == {"appointment_id": appointment.id, "changed": ["name", "email", "mobile", "treatments"]}
    assert "Ruiz" not in json.dumps(staff_support.audit_rows(app)[-1].detail)
    # Saving it again unchanged changes nothing and records nothing.
    again = post(client, path, edit_form(name="María López Ruiz", email="maria.ruiz@example.org", mobile="",
                                         treatments="both"), page=path, follow_redirects=True)
    assert "Nothing was changed." in again.text and len(audited(app, "appointment_changed")) == 1


def test_an_unchanged_visit_that_has_begun_can_still_be_corrected_but_not_moved_into_the_past(app, as_role):
    begun = (utcnow() - dt.timedelta(minutes=30)).replace(second=0, microsecond=0)
    appointment = make(app, visit_at=begun)
    client = as_role("staff")
    path = f"/staff/appointments/{appointment.id}/edit"
    values = edit_form(date=begun.date().isoformat(), time=begun.strftime("%H:%M"))
    assert post(client, path, {**values, "email": "new@example.org"}, page=path).status_code == 302
    assert all_appointments(app)[0].email == "new@example.org"
    earlier = begun - dt.timedelta(hours=2)
    page = post(client, path, {**values, "date": earlier.date().isoformat(), "time": earlier.strftime("%H:%M")}, page=path)
    assert page.status_code == 422 and "This visit is in the past" in page.text


def test_a_submitted_appointment_changes_its_visit_and_contact_but_keeps_its_earlier_form(app, as_role):
    earlier, other, arrived = add_submission(app), add_submission(app), add_submission(app)
    appointment = make(app, earlier_submission_id=earlier.id)
    with store(app).writing() as session:
        session.get(Appointment, appointment.id).submission_id = arrived.id
    client = as_role("staff")
    path = f"/staff/appointments/{appointment.id}/edit"
    page = client.get(path)
    assert 'name="earlier"' not in page.text and earlier.reference in page.text and "cannot change" in page.text
    later = TOMORROW + dt.timedelta(days=2)
    done = post(client, path, edit_form(date=later.isoformat(), mobile="+34 600 999 888", earlier=other.reference),
                page=path)
    assert done.status_code == 302
    [changed] = all_appointments(app)
    assert changed.earlier_submission_id == earlier.id and changed.submission_id == arrived.id
    assert changed.visit_at.date() == later and changed.mobile == "+34 600 999 888"
    assert audited(app, "appointment_changed")[0]["changed"] == ["mobile", "visit"]


def test_a_new_visit_date_carries_the_link_with_it(app, as_role):
    appointment = make(app)
    token = issue(app, appointment)
    client = as_role("staff")
    path = f"/staff/appointments/{appointment.id}/edit"
    later = TOMORROW + dt.timedelta(days=5)
    assert post(client, path, edit_form(date=later.isoformat(), time="16:00"), page=path).status_code == 302
    new_visit = dt.datetime.combine(later, dt.time(16, 0), dt.UTC)
    [moved] = all_appointments(app)
    assert moved.visit_at == new_visit and moved.token_expires_at == new_visit + dt.timedelta(days=1)
    past_old_expiry = appointment.visit_at + dt.timedelta(days=2)
    assert appointments.by_token(store(app), token, now=past_old_expiry).id == appointment.id, "the link still works"
    assert appointments.by_token(store(app), token, now=new_visit + dt.timedelta(days=1, seconds=1)) is None
    assert app.test_client().get(f"/i/{token}").status_code == 302
    assert audited(app, "appointment_changed")[0]["changed"] == ["visit"]


def test_changing_an_appointment_that_has_no_link_issues_none(app, as_role):
    appointment = make(app)
    client = as_role("staff")
    path = f"/staff/appointments/{appointment.id}/edit"
    post(client, path, edit_form(time="17:45"), page=path)
    [moved] = all_appointments(app)
    assert moved.visit_at.strftime("%H:%M") == "17:45" and moved.token_hash is None and moved.token_expires_at is None


def test_an_unknown_appointment_is_not_found(app, as_role):
    client = as_role("staff")
    assert client.get("/staff/appointments/999/edit").status_code == 404
    assert post(client, "/staff/appointments/999/cancel").status_code == 404
    assert post(client, "/staff/appointments/999/restore").status_code == 404


def test_the_day_view_has_an_edit_link_naming_the_patient_for_screen_readers(app, as_role):
    appointment = make(app)
    page = as_role("staff").get("/staff/appointments/").text
    assert (f'href="/staff/appointments/{appointment.id}/edit">Edit<span class="visually-hidden"> the appointment of '
            "Maria López</span></a>") in html.unescape(page)


def test_posts_to_change_cancel_or_restore_without_the_csrf_token_are_refused(app, as_role):
    appointment = make(app)
    client = as_role("staff")
    edit = f"/staff/appointments/{appointment.id}/edit"
    for token in ({}, {"csrf_token": "stale"}):
        refused = client.post(edit, data={**edit_form(name="Someone Else"), **token})
        assert refused.status_code == 302 and refused.location == edit, "back to the form, which takes a GET"
        refused = client.post(f"/staff/appointments/{appointment.id}/cancel", data=token)
        assert refused.status_code == 302 and refused.location == "/staff/appointments/", "not to a POST-only address"
        assert "expired, so nothing was changed" in client.get(refused.location).text
    [still] = all_appointments(app)
    assert still.patient_name == "Maria López" and still.cancelled_at is None
    appointments.cancel(store(app), appointment.id)
    assert client.post(f"/staff/appointments/{appointment.id}/restore").status_code == 302
    assert all_appointments(app)[0].cancelled_at is not None
    assert not {"appointment_changed", "appointment_cancelled", "appointment_restored"} & set(actions(app))


def row_of(page: str, name: str) -> str:
    return next(row for row in re.findall(r"<tr class=[^>]*>.*?</tr>", html.unescape(page), re.S) if name in row)


@pytest.mark.parametrize(("language", "title", "mistake"), [
    ("en", "This visit was cancelled", "If you think this is a mistake, contact the clinic."),
    ("es", "Esta visita se ha cancelado", "Si cree que se trata de un error, póngase en contacto con la clínica."),
])
def test_a_cancelled_visit_is_greyed_and_its_link_says_so_without_a_form(app, as_role, language, title, mistake):
    appointment = make(app, language=language, visit_at=utcnow() + dt.timedelta(hours=3))
    token = issue(app, appointment)
    client = as_role("staff")
    done = post(client, f"/staff/appointments/{appointment.id}/cancel", page=f"/staff/appointments/{appointment.id}/edit",
                follow_redirects=True)
    assert "The appointment is cancelled." in done.text and "Maria" not in done.text.split("<main", 1)[-1].split(
        "<table", 1)[0], "the flash names no one"
    assert audited(app, "appointment_cancelled") == [{"appointment_id": appointment.id}]
    row = row_of(client.get("/staff/appointments/").text, "Maria López")
    assert 'class="row-cancelled"' in row and ">Cancelled</span>" in row and "No form yet" not in row
    assert "Send invitation" not in row and "Link and QR code" not in row and "/edit" in row
    patient = app.test_client()
    page = patient.get(f"/i/{token}")
    assert page.status_code == 410 and page.location is None
    text = html.unescape(page.text)
    assert title in text and mistake in text and f'lang="{language}"' in page.text
    assert "<form" not in text.split("<main", 1)[-1] and "Maria" not in text
    with store(app).reading() as session:
        assert session.scalars(select(Draft)).all() == [], "no form was started"


def test_restoring_a_cancelled_visit_brings_its_link_and_buttons_back(app, as_role):
    appointment = make(app)
    token = issue(app, appointment)
    client = as_role("staff")
    edit = f"/staff/appointments/{appointment.id}/edit"
    post(client, f"/staff/appointments/{appointment.id}/cancel", page=edit)
    again = post(client, f"/staff/appointments/{appointment.id}/cancel", page=edit, follow_redirects=True)
    assert "already cancelled" in again.text and len(audited(app, "appointment_cancelled")) == 1
    page = client.get(edit).text
    assert "Restore the appointment" in page and "Cancel this appointment" not in page
    post(client, f"/staff/appointments/{appointment.id}/restore", page=edit)
    assert audited(app, "appointment_restored") == [{"appointment_id": appointment.id}]
    assert all_appointments(app)[0].cancelled_at is None
    row = row_of(client.get("/staff/appointments/").text, "Maria López")
    assert "row-cancelled" not in row and "Send invitation" in row and "Link and QR code" in row
    assert app.test_client().get(f"/i/{token}").location.endswith("/intake/about-you")


def test_a_cancelled_visit_gets_no_invitation_or_link_from_the_buttons(app, as_role, monkeypatch):
    from intake.appointments import notify

    queued = []
    monkeypatch.setattr(notify, "mailer", lambda: queued.append)
    appointment = make(app)
    appointments.cancel(store(app), appointment.id)
    client = as_role("staff")
    sent = post(client, f"/staff/appointments/{appointment.id}/send", page="/staff/appointments/", follow_redirects=True)
    shown = post(client, f"/staff/appointments/{appointment.id}/link", page="/staff/appointments/", follow_redirects=True)
    assert "This appointment is cancelled: restore it first" in html.unescape(sent.text + shown.text)
    [still] = all_appointments(app)
    assert queued == [] and still.invited_at is None and still.token_hash is None


def test_a_draft_already_started_stays_when_the_visit_is_cancelled(app, client):
    appointment = make(app)
    token = issue(app, appointment)
    client.get(f"/i/{token}")
    appointments.cancel(store(app), appointment.id)
    assert app.test_client().get(f"/i/{token}").status_code == 410
    with store(app).reading() as session:
        assert len(session.scalars(select(Draft)).all()) == 1


def test_the_dashboard_and_the_day_view_do_not_count_a_cancelled_visit_as_missing_its_form(app, as_role):
    make(app, visit_at=utcnow() + dt.timedelta(hours=2), patient_name="Kept Patient")
    gone = make(app, visit_at=utcnow() + dt.timedelta(hours=5), patient_name="Gone Patient")
    client = as_role("staff")
    assert ">2</span> no form yet, visit within 24 h" in client.get("/staff/").text
    appointments.cancel(store(app), gone.id)
    assert ">1</span> no form yet, visit within 24 h" in client.get("/staff/").text
    assert "1 visit within 24 hours has no form yet" in client.get("/staff/appointments/").text
    with app.test_request_context():
        from intake.appointments import views
        assert views.missing_soon() == 1


def test_the_day_view_says_when_it_leaves_appointments_out(app, as_role, monkeypatch):
    from intake.appointments import views

    for hours in (2, 30, 60):
        make(app, visit_at=utcnow() + dt.timedelta(hours=hours), patient_name=f"Patient In{hours}h")
    client = as_role("staff")
    assert "Showing the first" not in client.get("/staff/appointments/").text
    monkeypatch.setattr(views, "DAY_VIEW_LIMIT", 2)
    page = html.unescape(client.get("/staff/appointments/").text)
    assert "Showing the first 2 of 3 appointments" in page and "The 1 furthest ahead are not listed here" in page
    assert "Patient In2h" in page and "Patient In60h" not in page
    assert staff_support.audit_rows(app)[-1].detail == {"shown": 2, "total": 3}


def test_the_count_beside_the_capped_list_reads_the_same_range(app):
    for hours in (2, 30, 60):
        make(app, visit_at=utcnow() + dt.timedelta(hours=hours))
    start, end = utcnow(), utcnow() + dt.timedelta(days=5)
    assert len(rows.between(store(app), start, end, limit=2)) == 2
    assert rows.count_between(store(app), start, end) == 3
    assert rows.count_between(store(app), start, utcnow() + dt.timedelta(hours=40)) == 2
