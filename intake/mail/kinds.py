"""The messages: what each kind says, to whom, with which link. Registered on compose.BUILDERS."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from babel.dates import format_date
from flask import current_app
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from ..db import get_store
from ..models import utcnow
from ..store import drafts, submissions
from . import outbox
from .compose import builder, clinic_zone, external, language_of, message, when
from .outbox import Mail

STAFF_LANGUAGE = "en"  # the staff pages are in English, and so are their e-mails


@builder("resume_link")
def resume_link(mail: Mail) -> EmailMessage | None:
    """Asked for at a kiosk: a fresh link for the draft, minted now (the kiosk keeps working until it is opened)."""
    if mail.draft_id is None or not mail.address:
        return None
    token = drafts.issue_mail_token(get_store(), mail.draft_id)
    if token is None:
        return None  # submitted or expired meanwhile: nothing to resume
    language = language_of(mail)
    return message("resume_link", to=mail.address, language=language,
                   subject=lambda: _("Your link to continue your form – %(clinic)s",
                                     clinic=current_app.config["CLINIC_NAME"]),
                   link=external("patient.resume", token=token), days=7)


@builder("submitted")
def submitted(mail: Mail) -> EmailMessage | None:
    """To staff: a reference, the visit date, stop flags yes/no. Never a name or an answer."""
    submission = submissions.get(get_store(), mail.submission_id) if mail.submission_id else None
    if submission is None or not mail.address:
        return None
    booked = outbox.visit_of_submission(submission.id)  # the appointment's visit wins over the date typed
    visit = booked.astimezone(clinic_zone()).strftime("%Y-%m-%d %H:%M") if booked else (
        submission.visit_date.isoformat() if submission.visit_date else None)
    return message("submitted", to=mail.address, language=STAFF_LANGUAGE, automatic=True,
                   subject=lambda: f"Form submitted: {submission.reference}",
                   reference=submission.reference, visit=visit, booked=booked is not None,
                   stop_flags=bool(submission.has_stop_flags),
                   staff_url=external("staff.detail", submission_id=submission.id))  # an opaque id: sign-in comes first


def invitation_link(token: str) -> str:
    """The appointment's personal link (/i/<token>), absolute under PUBLIC_URL."""
    try:
        return external("patient.invitation", token=token)
    except BuildError:  # the invitation page is not registered in this build
        return current_app.config["PUBLIC_URL"].rstrip("/") + "/i/" + token


def _appointment_mail(mail: Mail, template: str, subject) -> EmailMessage | None:
    """Invitation or reminder: a fresh link token (the previous link stops working), the visit, the clinic."""
    from .. import appointments
    from ..store import appointments as appointment_rows

    if mail.appointment_id is None or not mail.address:
        return None
    appointment = appointment_rows.get(get_store(), mail.appointment_id)
    if appointment is None or appointment.submission_id is not None or appointment.cancelled_at is not None:
        return None  # deleted, cancelled, or the form has arrived: nothing to ask for
    if appointment.visit_at + appointments.VALID_AFTER_VISIT <= utcnow():
        return None  # the link could not work any more
    token = appointments.issue_token(get_store(), appointment)
    language = language_of(mail)
    return message(template, to=mail.address, language=language, subject=subject,
                   link=invitation_link(token), visit=when(appointment.visit_at, language))


@builder("invitation")
def invitation(mail: Mail) -> EmailMessage | None:
    return _appointment_mail(mail, "invitation", lambda: _("Your visit to %(clinic)s: your form",
                                                           clinic=current_app.config["CLINIC_NAME"]))


@builder("reminder")
def reminder(mail: Mail) -> EmailMessage | None:
    return _appointment_mail(mail, "reminder", lambda: _("Reminder: your form for your visit to %(clinic)s",
                                                         clinic=current_app.config["CLINIC_NAME"]))


def cancellation_key(appointment_id: int, cancelled_at: dt.datetime) -> str:
    """The once_key of one cancellation's e-mail: a double click sends one; cancel, restore, cancel may send again."""
    return f"cancelled:{appointment_id}:{cancelled_at.astimezone(dt.UTC):%Y%m%dT%H%M%S%f}"


@builder("cancelled")
def cancelled(mail: Mail) -> EmailMessage | None:
    """To the patient: the visit (date and time) is cancelled. No link, no name, no treatment."""
    from ..store import appointments as appointment_rows

    if mail.appointment_id is None or not mail.address or not mail.once_key:
        return None
    appointment = appointment_rows.get(get_store(), mail.appointment_id)
    if appointment is None or appointment.cancelled_at is None:
        return None  # deleted, or restored before the job ran: the visit stands
    if cancellation_key(appointment.id, appointment.cancelled_at) != mail.once_key:
        return None  # restored and cancelled again since: that cancellation has its own e-mail
    language = language_of(mail)
    # The subject names the day without its weekday ("11 de diciembre de 2026"), to stay on one header line.
    day = format_date(appointment.visit_at.astimezone(clinic_zone()).date(), format="long", locale=language)
    return message("cancelled", to=mail.address, language=language, visit=when(appointment.visit_at, language),
                   subject=lambda: _("Your visit to %(clinic)s on %(date)s is cancelled",
                                     clinic=current_app.config["CLINIC_NAME"], date=day))


def appointments_url() -> str:
    try:
        return external("staff.appointments.index")
    except BuildError:  # a build without the appointment pages
        return external("staff.dashboard")


@builder("digest")
def digest(mail: Mail) -> EmailMessage | None:
    """To staff: tomorrow's booked (not cancelled) appointments with no form, as times and a count. No names."""
    from ..store import appointments as appointment_rows

    if not mail.address or not mail.once_key:
        return None
    day = dt.date.fromisoformat(mail.once_key.split(":", 1)[1])
    zone = clinic_zone()
    start = dt.datetime.combine(day, dt.time(0), zone)
    rows = appointment_rows.between(get_store(), start, start + dt.timedelta(days=1))
    times = [row.appointment.visit_at.astimezone(zone).strftime("%H:%M") for row in rows
             if row.appointment.submission_id is None and row.appointment.cancelled_at is None]
    if not times:
        return None  # every form is in: nothing to tell
    return message("digest", to=mail.address, language=STAFF_LANGUAGE, automatic=True,
                   subject=lambda: f"Tomorrow ({day.isoformat()}): {len(times)} appointment(s) with no form yet",
                   day=day.strftime("%A %d %B %Y"), times=times, staff_url=appointments_url())
