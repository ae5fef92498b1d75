"""Appointments the clinic booked, and the personal invitation link that binds a patient's form to one.

The data contract other modules use:
- create(store, ...) -> Appointment (patient fields encrypted; no token yet);
- change(store, appointment_id, **values) -> (Appointment, names of the changed fields) or None: a moved
  visit carries its link's expiry with it and clears the reminder records, so reminders come again;
- cancel(store, appointment_id) / restore(store, appointment_id) -> whether the state changed. A cancelled
  appointment keeps its link (which then says "cancelled"), gets no reminders and is not "missing a form";
- issue_token(store, appointment) -> the raw link token, 256 random bits. Only its SHA-256 is stored, so
  a raw link exists only when it is (re)issued: issuing again invalidates the previous link;
- by_token(store, raw) -> the appointment whose unexpired token this is, else None;
- status(row) -> "not sent" | "invited" | "opened" | "in progress" | "submitted" | "reviewed";
- due_for_reminder(store, now, hours, kind) -> ids (intake.store.appointments), record_mail(...) for e-mails sent;
- link(raw_token) -> the absolute /i/<token> URL (redacted from logs by intake.redact).
"""

from __future__ import annotations

import datetime as dt
import secrets

from flask import url_for

from ..models import Appointment, utcnow
from ..store import Store
from ..store import appointments as rows
from ..store.appointments import due_for_reminder, hash_token, mails_sent, record_mail  # noqa: F401 - the API

TOKEN_BYTES = 32  # 256 random bits
# The link works until a day after the visit, so a patient finishing the form at the desk is not locked out.
VALID_AFTER_VISIT = dt.timedelta(days=1)
TREATMENTS = ("neurotoxin", "microneedling", "both", "consultation")
LANGUAGES = ("en", "es")
STATUSES = ("not sent", "invited", "opened", "in progress", "submitted", "reviewed")
MAX_TOKEN = 100


def create(store: Store, *, patient_name: str, visit_at: dt.datetime, treatments: str, email: str | None = None,
           mobile: str | None = None, language: str = "en", earlier_submission_id: str | None = None,
           created_by: int | None = None) -> Appointment:
    _check({"treatments": treatments, "language": language, "email": email, "mobile": mobile})
    return rows.add(store, patient_name=patient_name, visit_at=visit_at.astimezone(dt.UTC), treatments=treatments,
                    email=email or None, mobile=mobile or None, language=language,
                    earlier_submission_id=earlier_submission_id, created_by=created_by, created_at=utcnow())


# Field names for people and the audit trail (never values), by model attribute.
FIELD_NAMES = {"patient_name": "name", "email": "email", "mobile": "mobile", "visit_at": "visit",
               "treatments": "treatments", "language": "language", "earlier_submission_id": "earlier"}


def _check(values: dict) -> None:
    """The rules create and change share, on the fields given: known codes, and a way to reach the patient."""
    if "treatments" in values and values["treatments"] not in TREATMENTS:
        raise ValueError("unknown treatments code")
    if "language" in values and values["language"] not in LANGUAGES:
        raise ValueError("unknown language")
    if ("email" in values or "mobile" in values) and not (values.get("email") or values.get("mobile")):
        raise ValueError("an e-mail address or a mobile number is needed")


def change(store: Store, appointment_id: int, **values) -> tuple[Appointment, list[str]] | None:
    """Change what staff typed (same rules as create); return the appointment and the changed field names."""
    _check(values)
    if values.get("visit_at") is not None:
        values["visit_at"] = values["visit_at"].astimezone(dt.UTC)
    for key in ("email", "mobile"):
        if key in values:
            values[key] = values[key] or None
    found = rows.change(store, appointment_id, values, VALID_AFTER_VISIT)
    if found is None:
        return None
    appointment, changed = found
    return appointment, [FIELD_NAMES[key] for key in changed]


def cancel(store: Store, appointment_id: int, now: dt.datetime | None = None) -> bool:
    return rows.set_cancelled(store, appointment_id, now or utcnow())


def restore(store: Store, appointment_id: int) -> bool:
    return rows.set_cancelled(store, appointment_id, None)


def expiry(appointment: Appointment) -> dt.datetime:
    return appointment.visit_at + VALID_AFTER_VISIT


def issue_token(store: Store, appointment: Appointment) -> str:
    """A new link token for the appointment (the previous one stops working); only its hash is stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    token_hash, expires_at = hash_token(token), expiry(appointment)
    rows.set_token(store, appointment.id, token_hash, expires_at)
    appointment.token_hash, appointment.token_expires_at = token_hash, expires_at
    return token


def by_token(store: Store, token: str | None, now: dt.datetime | None = None) -> Appointment | None:
    """The appointment whose unexpired link this is, or None (unknown, replaced or expired alike)."""
    if not token or len(token) > MAX_TOKEN:
        return None
    return rows.by_token_hash(store, hash_token(token), now or utcnow())


def link(token: str) -> str:
    """The absolute invitation link (needs a request or SERVER_NAME for url_for)."""
    return url_for("patient.invitation", token=token, _external=True)


def status(row: rows.Row) -> str:
    """Where the appointment's form is: from its timestamps, its draft and its submission."""
    appointment = row.appointment
    if appointment.submission_id is not None:
        return "reviewed" if row.submission_status == "reviewed" else "submitted"
    if row.draft_updated_at is not None and row.draft_created_at is not None \
            and row.draft_updated_at > row.draft_created_at:
        return "in progress"
    if appointment.opened_at is not None:
        return "opened"
    if appointment.invited_at is not None:
        return "invited"
    return "not sent"


def overdue(row: rows.Row, now: dt.datetime | None = None) -> bool:
    """The visit is within 24 hours (or has begun today), it is not cancelled, and no form has arrived."""
    now = now or utcnow()
    appointment = row.appointment
    return appointment.submission_id is None and appointment.cancelled_at is None \
        and appointment.visit_at - now <= dt.timedelta(hours=24) and appointment.visit_at + VALID_AFTER_VISIT > now
