"""Staff pages for appointments (any staff role): the day view, add, change, cancel and restore, CSV import, send,
and the link or QR code.

Every page that shows a patient's name or contact details is audited. A link can only be shown when it
is made, since only its hash is stored: "Link and QR code" issues a fresh link, and the one sent before
stops working (the page says so). The patient's draft stays bound to the appointment, so any newer
link reopens the same form.

Changing an appointment uses the add form's fields and rules (fields.read, _fields.html). A moved visit
carries its link's expiry along and makes the reminders due again for the new date (appointments.change).
Cancelling keeps the row, greyed in the day view with a "Cancelled" badge and no Send or Link buttons;
its link tells the patient the visit was cancelled. Restore undoes it. Either page can e-mail the patient
when staff tick its box: a moved visit sends the invitation again (fresh link, new date and time), a
cancellation sends the "cancelled" e-mail, once per cancellation (intake.mail). Flash messages never name the
patient: they travel in the session cookie.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets

import segno
from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for

from .. import appointments, audit
from ..auth import requires
from ..db import get_store
from ..export import clinic_today, clinic_zone
from ..models import utcnow
from ..store import appointments as rows
from ..store import submissions as submissions_store
from . import fields, importing, notify

bp = Blueprint("appointments", __name__, url_prefix="/appointments")
LATER_DAYS = 14
DAY_VIEW_LIMIT = 500  # rows the day view lists; past it, the page says how many it left out
FORM_KEYS = ("name", "email", "mobile", "date", "time", "treatments", "language", "earlier")


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), clinic_zone()).astimezone(dt.UTC)


def _view_rows(found: list[rows.Row], now: dt.datetime, mail: dict) -> list[dict]:
    return [{"row": r, "a": r.appointment, "status": appointments.status(r), "overdue": appointments.overdue(r, now),
             "mail": mail.get(r.appointment.id)} for r in found]


@bp.get("/")
@requires("list")
def index():
    today, now = clinic_today(), utcnow()
    days = [("Today", today), ("Tomorrow", today + dt.timedelta(days=1))]
    start, end = _day_start(today), _day_start(today + dt.timedelta(days=LATER_DAYS + 1))
    found = rows.between(get_store(), start, end, limit=DAY_VIEW_LIMIT)
    total = rows.count_between(get_store(), start, end) if len(found) >= DAY_VIEW_LIMIT else len(found)
    mail = notify.mail_states([r.appointment.id for r in found])
    listed = _view_rows(found, now, mail)
    groups = []
    for label, day in days:
        start, end = _day_start(day), _day_start(day + dt.timedelta(days=1))
        groups.append((label, day, [v for v in listed if start <= v["a"].visit_at < end]))
    later = [v for v in listed if v["a"].visit_at >= _day_start(today + dt.timedelta(days=2))]
    audit.record("appointments_viewed", detail={"shown": len(listed), "total": total})
    return render_template("staff/appointments/index.html", groups=groups, later=later, later_days=LATER_DAYS,
                           overdue=sum(1 for v in listed if v["overdue"]), labels=fields.TREATMENT_LABELS,
                           language_labels=fields.LANGUAGE_LABELS, shown=len(listed), total=total)


def missing_soon() -> int:
    """For the dashboard: visits in the next 24 hours (or earlier today) with no form yet."""
    now = utcnow()
    return rows.count_without_form(get_store(), min(now, _day_start(clinic_today())), now + dt.timedelta(hours=24))


def _earlier_id(reference: str, errors: dict) -> str | None:
    if not reference:
        return None
    found = submissions_store.get_by_reference(get_store(), reference)
    if found is None:
        errors["earlier"] = "No form has this reference. Check it on the Submissions page, or leave it blank."
        return None
    return found.id


def _create(values: dict, earlier_id: str | None):
    return appointments.create(
        get_store(), patient_name=values["patient_name"], email=values["email"], mobile=values["mobile"],
        visit_at=values["visit_at"], treatments=values["treatments"], language=values["language"],
        earlier_submission_id=earlier_id, created_by=g.staff_user.id)


@bp.route("/new", methods=["GET", "POST"])
@requires("list")
def new():
    if request.method == "GET":
        return render_template("staff/appointments/new.html", values={"language": "en", "send": "now"}, errors={},
                               **_form_context())
    values = {key: request.form.get(key, "") for key in (*FORM_KEYS, "send")}
    reading = fields.read(values, now=utcnow())
    errors = dict(reading.errors)
    earlier_id = _earlier_id(reading.values["earlier"], errors) if "earlier" not in errors else None
    send_now = values["send"] == "now"
    if send_now and not reading.values["email"] and "email" not in errors:
        errors["send"] = "To send the invitation now, enter an e-mail address; or choose “Not now”."
    if errors:
        return render_template("staff/appointments/new.html", values=values, errors=errors, **_form_context()), 422
    appointment = _create(reading.values, earlier_id)
    audit.record("appointment_added", submission_id=earlier_id, detail={"appointment_id": appointment.id})
    if send_now:
        _send(appointment.id)
    else:
        flash("The appointment is added. Send the invitation, or show its link or QR code, when you are ready.", "success")
    return redirect(url_for(".index"))


def _form_context() -> dict:
    return {"treatments": fields.TREATMENT_LABELS, "languages": fields.LANGUAGE_LABELS,
            "limits": {"name": fields.NAME_MAX, "email": fields.EMAIL_MAX, "mobile": fields.MOBILE_MAX,
                       "earlier": fields.REFERENCE_MAX}}


# --- change, cancel, restore ---------------------------------------------------------------------------------------

def _current_values(appointment) -> dict:
    """The change form's fields as the appointment has them now (visit in clinic time)."""
    local = appointment.visit_at.astimezone(clinic_zone())
    return {"name": appointment.patient_name, "email": appointment.email or "", "mobile": appointment.mobile or "",
            "date": local.date().isoformat(), "time": local.strftime("%H:%M"), "treatments": appointment.treatments,
            "language": appointment.language,
            "earlier": rows.reference_of(get_store(), appointment.earlier_submission_id) or ""}


def _edit_page(appointment, values: dict, errors: dict, status: int = 200):
    row = rows.row(get_store(), appointment.id)
    page = render_template("staff/appointments/edit.html", a=appointment, values=values, errors=errors,
                           form_status=appointments.status(row) if row else "", **_form_context())
    return page, status, {"Cache-Control": "no-store"}


@bp.route("/<int:appointment_id>/edit", methods=["GET", "POST"])
@requires("list")
def edit(appointment_id: int):
    appointment = _appointment(appointment_id)
    submitted = appointment.submission_id is not None
    if request.method == "GET":
        audit.record("appointment_opened", detail={"appointment_id": appointment.id})
        return _edit_page(appointment, _current_values(appointment), {})
    values = {key: request.form.get(key, "") for key in FORM_KEYS}
    values["notify"] = "1" if request.form.get("notify") == "1" else ""
    if submitted:  # the form arrived: its earlier submission stays as it was, whatever was posted
        values["earlier"] = rows.reference_of(get_store(), appointment.earlier_submission_id) or ""
    reading = fields.read(values, now=utcnow(), booked=appointment.visit_at)
    errors = dict(reading.errors)
    if submitted:
        earlier_id = appointment.earlier_submission_id
    else:
        earlier_id = _earlier_id(reading.values["earlier"], errors) if "earlier" not in errors else None
    if errors:
        audit.record("appointment_opened", detail={"appointment_id": appointment.id})  # the page shows it again
        return _edit_page(appointment, values, errors, 422)
    new_values = reading.values
    changed = appointments.change(
        get_store(), appointment.id, patient_name=new_values["patient_name"], email=new_values["email"],
        mobile=new_values["mobile"], visit_at=new_values["visit_at"], treatments=new_values["treatments"],
        language=new_values["language"], earlier_submission_id=earlier_id)
    if changed is None:
        abort(404)
    updated, names = changed
    asked = values["notify"] == "1"
    if not names:
        flash("Nothing was changed." + (" No e-mail was sent." if asked else ""), "info")
        return redirect(url_for(".index"))
    audit.record("appointment_changed", detail={"appointment_id": appointment.id, "changed": names})
    notes = ["The appointment is changed."]
    if "visit" in names and updated.submission_id is None:
        notes.append("The patient’s link now works until a day after the new visit, and the reminders will go out "
                     "for the new date.")
    unsent = _why_not_told(updated, names) if asked else None
    if asked and unsent:
        notes.append(f"No e-mail was sent: {unsent}.")
    elif not asked and ("visit" in names or "email" in names) and updated.invited_at and updated.email \
            and updated.submission_id is None and updated.cancelled_at is None:
        notes.append("To tell the patient now, use “Resend”.")
    flash(" ".join(notes), "success")
    if asked and not unsent:  # the invitation again: a fresh link and the new date and time
        _send(appointment.id, done="The patient is being e-mailed the new date and time, with a fresh link.")
    return redirect(url_for(".index"))


def _why_not_told(appointment, names: list[str]) -> str | None:
    """Why "E-mail the patient the new date and time" sends nothing, or None when it sends."""
    if "visit" not in names:
        return "the date and time did not change"
    if not appointment.email:
        return "the appointment has no e-mail address"
    if appointment.submission_id is not None:
        return "the patient has already sent the form"
    if appointment.cancelled_at is not None:
        return "the appointment is cancelled"
    return None


@bp.post("/<int:appointment_id>/cancel")
@requires("list")
def cancel(appointment_id: int):
    appointment = _appointment(appointment_id)
    asked = request.form.get("notify") == "1"
    if appointments.cancel(get_store(), appointment.id):
        audit.record("appointment_cancelled", detail={"appointment_id": appointment.id})
        told = "Nothing was sent to the patient."
        if asked and appointment.email and appointment.submission_id is None:
            queued = notify.queue_cancellation(appointment.id)  # once per cancellation: a double click sends one
            audit.record("cancellation_queued", detail={"appointment_id": appointment.id, "queued": queued})
            told = ("The e-mail telling the patient is on its way." if queued else
                    "E-mail is not set up here, so nothing was sent: tell the patient yourself.")
        flash("The appointment is cancelled. Its link now tells the patient the visit was cancelled, and no reminders "
              f"go out. {told} To undo it, open the appointment and choose “Restore”.", "success")
    else:
        flash("This appointment was already cancelled.", "info")
    return redirect(url_for(".index"))


@bp.post("/<int:appointment_id>/restore")
@requires("list")
def restore(appointment_id: int):
    appointment = _appointment(appointment_id)
    if appointments.restore(get_store(), appointment.id):
        audit.record("appointment_restored", detail={"appointment_id": appointment.id})
        flash("The appointment is restored: its link opens the form again, and reminders go out as usual.", "success")
    else:
        flash("This appointment was not cancelled.", "info")
    return redirect(url_for(".index"))


def _cancelled(appointment) -> bool:
    if appointment.cancelled_at is not None:
        flash("This appointment is cancelled: restore it first (open it, then “Restore”).", "info")
        return True
    return False


def _send(appointment_id: int, done: str = "The invitation e-mail is on its way.") -> None:
    appointment = rows.get(get_store(), appointment_id)
    if appointment.email is None:
        flash("This patient has no e-mail address: use “Link and QR code” to hand the link over.", "warning")
        return
    queued = notify.queue_invitation(appointment_id)
    audit.record("invitation_queued", detail={"appointment_id": appointment_id, "queued": queued})
    if queued:
        flash(done, "success")
    else:
        flash("The appointment is marked invited, but e-mail is not set up here: use “Link and QR code” to hand the "
              "link over.", "warning")


def _appointment(appointment_id: int):
    appointment = rows.get(get_store(), appointment_id)
    if appointment is None:
        abort(404)
    return appointment


@bp.post("/<int:appointment_id>/send")
@requires("list")
def send(appointment_id: int):
    appointment = _appointment(appointment_id)
    if _cancelled(appointment):
        pass
    elif appointment.submission_id is not None:
        flash("This patient has already sent the form: no invitation is needed.", "info")
    else:
        _send(appointment.id)
    return redirect(url_for(".index"))


def qr_data_uri(link: str) -> str:
    """The link as a QR code, made here (segno), as an SVG data URI: it holds the link and nothing else."""
    return segno.make(link, error="m").svg_data_uri(scale=5, border=4, dark="#1d2733")


@bp.post("/<int:appointment_id>/link")
@requires("list")
def link(appointment_id: int):
    appointment = _appointment(appointment_id)
    if _cancelled(appointment):
        return redirect(url_for(".index"))
    if appointment.submission_id is not None:
        flash("This patient has already sent the form: there is no link to hand over.", "info")
        return redirect(url_for(".index"))
    token = appointments.issue_token(get_store(), appointment)
    audit.record("invitation_link_shown", detail={"appointment_id": appointment.id})
    url = appointments.link(token)
    response = render_template("staff/appointments/link.html", a=appointment, url=url, qr=qr_data_uri(url),
                               labels=fields.TREATMENT_LABELS)
    return response, 200, {"Cache-Control": "no-store"}


# --- CSV import ------------------------------------------------------------------------------------------------------

def _import_options(source) -> dict:
    treatments = source.get("treatments", "")
    language = source.get("language", "en")
    return {"treatments": treatments if treatments in appointments.TREATMENTS else "",
            "language": language if language in appointments.LANGUAGES else "en",
            "send": source.get("send") == "1"}


def _checked(raws: list[dict], options: dict) -> list[importing.Row]:
    checked = importing.check(raws, now=utcnow(), default_treatments=options["treatments"],
                              default_language=options["language"])
    for row in checked:
        if row.reading.ok and row.reading.values["earlier"]:
            row.reading.values["earlier_id"] = _earlier_id(row.reading.values["earlier"], row.reading.errors)
    return checked


@bp.route("/import", methods=["GET", "POST"])
@requires("list")
def import_csv():
    context = {"treatments": fields.TREATMENT_LABELS, "languages": fields.LANGUAGE_LABELS,
               "max_rows": importing.MAX_ROWS, "max_kb": importing.MAX_BYTES // 1024, "labels": fields.TREATMENT_LABELS}
    if request.method == "GET":
        return render_template("staff/appointments/import.html", options=_import_options({}), error="", **context)
    options = _import_options(request.form)
    if request.form.get("action") == "confirm":
        return _confirm(options)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise importing.ImportError_("Choose the CSV file your booking system exported.")
        raws = importing.parse(importing.decode(upload.read(importing.MAX_BYTES + 1)))
    except importing.ImportError_ as problem:
        return render_template("staff/appointments/import.html", options=options, error=str(problem), **context), 422
    checked = _checked(raws, options)
    batch = secrets.token_urlsafe(12)
    audit.record("appointments_import_previewed", detail={"rows": len(checked)})
    return render_template("staff/appointments/import.html", options=options, error="", preview=checked,
                           good=sum(1 for r in checked if r.reading.ok), carried=json.dumps([r.raw | {"line": r.number}
                                                                                             for r in checked]),
                           batch=batch, **context)


def _confirm(options: dict):
    try:
        raws = json.loads(request.form.get("rows", "[]"))
        if not isinstance(raws, list) or len(raws) > importing.MAX_ROWS or not all(isinstance(r, dict) for r in raws):
            raise ValueError
    except ValueError:
        flash("The preview could not be read back. Please upload the file again.", "error")
        return redirect(url_for(".import_csv"))
    batch = request.form.get("batch", "")[:40]
    done = session.get("imported_batches", [])
    if batch in done:  # a double click, or Back and confirm again: the batch is imported once
        flash("This file was imported already.", "info")
        return redirect(url_for(".index"))
    session["imported_batches"] = [*done[-9:], batch]
    checked = _checked(raws, options)
    made = []
    for row in checked:
        if row.reading.ok:
            made.append(_create(row.reading.values, row.reading.values.get("earlier_id")).id)
    audit.record("appointments_imported", detail={"added": len(made), "skipped": len(checked) - len(made)})
    sent = 0
    if options["send"]:
        for appointment_id in made:
            appointment = rows.get(get_store(), appointment_id)
            if appointment.email and notify.queue_invitation(appointment_id):
                sent += 1
    skipped = len(checked) - len(made)
    flash(f"{len(made)} appointment{'' if len(made) == 1 else 's'} added"
          + (f", {sent} invitation{'' if sent == 1 else 's'} on the way" if options["send"] else "")
          + (f". {skipped} row{'' if skipped == 1 else 's'} with errors {'was' if skipped == 1 else 'were'} not imported"
             if skipped else "") + ".", "success" if not skipped else "warning")
    return redirect(url_for(".index"))
