"""Appointments: the visits the clinic booked and their invitation tokens (intake.appointments has the rules)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Appointment, AppointmentMail, Draft, Submission, utcnow
from . import Store


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def add(store: Store, **fields) -> Appointment:
    with store.writing() as session:
        appointment = Appointment(**fields)
        session.add(appointment)
    return appointment


def get(store: Store, appointment_id: int) -> Appointment | None:
    with store.reading() as session:
        return session.get(Appointment, appointment_id)


# The reminders' kinds in appointment_mails (intake.mail.schedule: "reminder-72h", "reminder-24h", ...).
REMINDER_KINDS = "reminder-%"
# What staff may change on an appointment (intake.appointments.change); a submitted one keeps its earlier form.
CHANGEABLE = ("patient_name", "email", "mobile", "visit_at", "treatments", "language", "earlier_submission_id")


def change(store: Store, appointment_id: int, values: dict, valid_after: dt.timedelta) -> tuple[Appointment, list[str]] | None:
    """Apply the changed values in one transaction; return the appointment and the names of what changed.

    When the visit moves: a link token's expiry follows it (valid_after past the new visit), and the
    reminder records are cleared, since they were for the old date: the reminders are due again, by the
    usual rules, for the new one. An appointment whose form was submitted keeps its earlier submission.
    None if there is no such appointment.
    """
    with store.writing() as session:
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            return None
        changed = []
        for key in CHANGEABLE:
            if key not in values or (key == "earlier_submission_id" and appointment.submission_id is not None):
                continue
            if getattr(appointment, key) != values[key]:
                setattr(appointment, key, values[key])
                changed.append(key)
        if "visit_at" in changed:
            if appointment.token_hash is not None:
                appointment.token_expires_at = appointment.visit_at + valid_after
            session.execute(delete(AppointmentMail).where(AppointmentMail.appointment_id == appointment_id,
                                                          AppointmentMail.kind.like(REMINDER_KINDS)))
    return appointment, changed


def set_cancelled(store: Store, appointment_id: int, at: dt.datetime | None) -> bool:
    """Cancel (at: when) or restore (None); False when it already was so (a double click records nothing twice)."""
    state = Appointment.cancelled_at.is_(None) if at is not None else Appointment.cancelled_at.is_not(None)
    with store.writing() as session:
        return session.execute(update(Appointment).where(Appointment.id == appointment_id, state)
                               .values(cancelled_at=at)).rowcount == 1


def set_token(store: Store, appointment_id: int, token_hash: str, expires_at: dt.datetime) -> bool:
    """Replace the invitation token's hash (the old link stops working)."""
    with store.writing() as session:
        return session.execute(update(Appointment).where(Appointment.id == appointment_id)
                               .values(token_hash=token_hash, token_expires_at=expires_at)).rowcount == 1


def by_token_hash(store: Store, token_hash: str, now: dt.datetime) -> Appointment | None:
    with store.reading() as session:
        return session.scalar(select(Appointment).where(Appointment.token_hash == token_hash,
                                                        Appointment.token_expires_at > now))


def mark_invited(store: Store, appointment_id: int, at: dt.datetime) -> None:
    with store.writing() as session:
        session.execute(update(Appointment).where(Appointment.id == appointment_id).values(invited_at=at))


def opened(store: Store, appointment_id: int, draft_id: int, at: dt.datetime) -> None:
    """The patient opened the link: bind the draft; the first opening's time is kept."""
    with store.writing() as session:
        appointment = session.get(Appointment, appointment_id)
        appointment.draft_id = draft_id
        if appointment.opened_at is None:
            appointment.opened_at = at


def bind_submission(session: Session, draft_id: int, submission_id: str) -> int:
    """Inside the submit's own transaction: the appointment of this draft now has its submission."""
    return session.execute(
        update(Appointment).where(Appointment.draft_id == draft_id, Appointment.submission_id.is_(None))
        .values(submission_id=submission_id, draft_id=None)
        .execution_options(synchronize_session=False)).rowcount


def bind_submission_of_draft(session: Session, draft_token_hash: str, submission_id: str) -> int:
    """The same, found by the draft's resume-token hash (store.submissions.submit, before it deletes the draft)."""
    draft_id = select(Draft.id).where(Draft.token_hash == draft_token_hash).scalar_subquery()
    return session.execute(
        update(Appointment).where(Appointment.draft_id == draft_id, Appointment.submission_id.is_(None))
        .values(submission_id=submission_id, draft_id=None)
        .execution_options(synchronize_session=False)).rowcount


@dataclass
class Row:
    """An appointment with what its status needs: its draft's times and its submission's status."""

    appointment: Appointment
    draft_created_at: dt.datetime | None
    draft_updated_at: dt.datetime | None
    submission_status: str | None
    reference: str | None


def _rows(session: Session, statement) -> list[Row]:
    statement = (statement.add_columns(Draft.created_at, Draft.updated_at, Submission.status, Submission.reference)
                 .outerjoin(Draft, Draft.id == Appointment.draft_id)
                 .outerjoin(Submission, Submission.id == Appointment.submission_id))
    return [Row(*row) for row in session.execute(statement).all()]


def between(store: Store, start: dt.datetime, end: dt.datetime, limit: int = 500) -> list[Row]:
    """Appointments with start <= visit_at < end, soonest first (reads the visit_at index)."""
    with store.reading() as session:
        return _rows(session, select(Appointment).where(Appointment.visit_at >= start, Appointment.visit_at < end)
                     .order_by(Appointment.visit_at, Appointment.id).limit(limit))


def count_between(store: Store, start: dt.datetime, end: dt.datetime) -> int:
    """How many appointments between() would list without its limit (a range of the visit_at index)."""
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.visit_at >= start, Appointment.visit_at < end))


def row(store: Store, appointment_id: int) -> Row | None:
    with store.reading() as session:
        found = _rows(session, select(Appointment).where(Appointment.id == appointment_id))
    return found[0] if found else None


def reference_of(store: Store, submission_id: str | None) -> str | None:
    """A submission's reference alone (the change form shows the earlier form's): nothing is decrypted."""
    if submission_id is None:
        return None
    with store.reading() as session:
        return session.scalar(select(Submission.reference).where(Submission.id == submission_id))


def count_without_form(store: Store, start: dt.datetime, end: dt.datetime) -> int:
    """Booked (not cancelled) appointments with start <= visit_at < end and no submission (a range of the visit_at index)."""
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.visit_at >= start, Appointment.visit_at < end, Appointment.submission_id.is_(None),
            Appointment.cancelled_at.is_(None)))


def due_for_reminder(store: Store, now: dt.datetime, hours: int, kind: str) -> list[int]:
    """Ids of invited, not cancelled appointments with no submission, visiting within `hours` from now, with no
    `kind` mail yet."""
    sent = select(AppointmentMail.id).where(AppointmentMail.appointment_id == Appointment.id,
                                            AppointmentMail.kind == kind)
    with store.reading() as session:
        return list(session.scalars(
            select(Appointment.id).where(Appointment.visit_at > now,
                                         Appointment.visit_at <= now + dt.timedelta(hours=hours),
                                         Appointment.invited_at.is_not(None),
                                         Appointment.submission_id.is_(None),
                                         Appointment.cancelled_at.is_(None),
                                         ~sent.exists())
            .order_by(Appointment.visit_at, Appointment.id)))


def record_mail(store: Store, appointment_id: int, kind: str) -> bool:
    """Record that `kind` was sent for the appointment; False when it was recorded already (never send twice)."""
    try:
        with store.writing() as session:
            session.add(AppointmentMail(appointment_id=appointment_id, kind=kind, sent_at=utcnow()))
        return True
    except IntegrityError:
        return False


def mails_sent(store: Store, appointment_id: int) -> list[str]:
    with store.reading() as session:
        return list(session.scalars(select(AppointmentMail.kind).where(AppointmentMail.appointment_id == appointment_id)))


def delete_for_submission(session: Session, submission_id: str) -> int:
    """Inside an erasure's transaction: the appointment bound to this submission goes with it."""
    return session.execute(delete(Appointment).where(Appointment.submission_id == submission_id)
                           .execution_options(synchronize_session=False)).rowcount


def purge_unanswered_before(store: Store, cutoff: dt.datetime) -> int:
    """Delete appointments whose visit was before `cutoff` and that never got a form; return how many."""
    with store.writing() as session:
        return session.execute(delete(Appointment).where(Appointment.visit_at < cutoff,
                                                         Appointment.submission_id.is_(None))).rowcount
