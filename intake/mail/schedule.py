"""What falls due with time: reminders before a visit, and the daily digest for staff.

Reminders (REMINDER_HOURS, at most two: 72 h and 24 h before the visit by default) go to invited
appointments with an e-mail address and no submitted form. Each is claimed first in
appointment_mails, unique on (appointment, kind): a second run, or a second worker, finds it taken
and sends nothing. When a round finds both due (the visit is already within 24 h), only the later
reminder is sent and the earlier one is recorded as passed. A reminder whose moment came before the
invitation was sent is passed too: a patient invited two days ahead gets no "72 h" reminder.
Cancelled appointments get none. When staff move a visit, its reminder records are cleared
(intake.appointments.change) and the outbound once_key names the visit, so the new date's reminders
go out, once each, by the same rules.

A reminder carries a fresh invitation link: only a hash of the token is stored, so the job mints a
new one (intake.appointments.issue_token) and the link in earlier e-mails stops working.

The digest is sent once per clinic-local day, at DIGEST_HOUR or later (once_key "digest:<day>").
"""

from __future__ import annotations

import datetime as dt

from flask import current_app

from ..db import get_store
from ..models import utcnow
from ..store import appointments as appointment_rows
from .compose import clinic_zone


def reminder_kinds() -> list[tuple[int, str]]:
    """(hours, kind) for at most two reminders, latest (fewest hours) first."""
    hours = sorted({int(h) for h in current_app.config["REMINDER_HOURS"]})[:2]
    return [(h, f"reminder-{h}h") for h in hours]


def reminder_key(kind: str, appointment) -> str:
    """Once per kind and visit: a rescheduled visit (its reminder records cleared) gets its reminders again."""
    return f"{kind}:{appointment.id}:{appointment.visit_at.astimezone(dt.UTC):%Y%m%dT%H%M}"


def send_reminders(now: dt.datetime | None = None) -> int:
    from .jobs import queue

    now, store = now or utcnow(), get_store()
    kinds = reminder_kinds()
    queued = 0
    for position, (hours, kind) in enumerate(kinds):
        for appointment_id in appointment_rows.due_for_reminder(store, now, hours, kind):
            if not appointment_rows.record_mail(store, appointment_id, kind):
                continue  # another round took it
            for _earlier_hours, earlier_kind in kinds[position + 1:]:
                appointment_rows.record_mail(store, appointment_id, earlier_kind)  # passed: one reminder at a time
            appointment = appointment_rows.get(store, appointment_id)
            if appointment is None or not appointment.email:
                continue
            if appointment.invited_at and appointment.invited_at > appointment.visit_at - dt.timedelta(hours=hours):
                continue  # invited after this reminder's moment: the invitation itself is fresh enough
            if queue("reminder", address=appointment.email, language=appointment.language,
                     appointment_id=appointment_id, once_key=reminder_key(kind, appointment)) is not None:
                queued += 1
    return queued


def send_digest(now: dt.datetime | None = None) -> int:
    """Tomorrow's appointments with no form, to DIGEST_EMAIL (else NOTIFY_EMAIL), once a day from DIGEST_HOUR."""
    from .jobs import queue

    config = current_app.config
    address = config["DIGEST_EMAIL"] or config["NOTIFY_EMAIL"]
    if config["DIGEST_HOUR"] is None or not address:
        return 0
    local = (now or utcnow()).astimezone(clinic_zone())
    if local.hour < int(config["DIGEST_HOUR"]):
        return 0
    tomorrow = local.date() + dt.timedelta(days=1)
    return int(queue("digest", address=address, once_key=f"digest:{tomorrow.isoformat()}") is not None)


def run_due(now: dt.datetime | None = None) -> dict[str, int]:
    return {"reminders": send_reminders(now), "digests": send_digest(now)}
