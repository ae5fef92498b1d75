"""outbound_mail rows: queue one, claim a try, record the outcome. The only module that writes the table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..db import get_store
from ..models import OutboundMail, utcnow

# What staff see about an appointment's e-mail (latest row first): sent, waiting, or failed.
VISIBLE = ("invitation", "reminder")


@dataclass(frozen=True)
class Mail:
    id: int
    kind: str
    once_key: str | None
    appointment_id: int | None
    draft_id: int | None
    submission_id: str | None
    address: str | None
    language: str
    status: str
    attempts: int


def _plain(row: OutboundMail) -> Mail:
    return Mail(row.id, row.kind, row.once_key, row.appointment_id, row.draft_id, row.submission_id, row.address,
                row.language, row.status, row.attempts)


def add(kind: str, *, address: str | None, language: str = "en", once_key: str | None = None,
        appointment_id: int | None = None, draft_id: int | None = None, submission_id: str | None = None) -> int | None:
    """Queue one message; return its id, or None if `once_key` was queued before (it is never sent twice)."""
    row = OutboundMail(kind=kind, once_key=once_key, appointment_id=appointment_id, draft_id=draft_id,
                       submission_id=submission_id, address=address, language=language, status="queued", attempts=0,
                       created_at=utcnow())
    try:
        with get_store().writing() as session:
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        if once_key is None:
            raise
        return None


def by_once_key(once_key: str) -> Mail | None:
    with get_store().reading() as session:
        row = session.scalar(select(OutboundMail).where(OutboundMail.once_key == once_key))
        return None if row is None else _plain(row)


def get(mail_id: int) -> Mail | None:
    with get_store().reading() as session:
        row = session.get(OutboundMail, mail_id)
        return None if row is None else _plain(row)


def claim(mail: Mail) -> int | None:
    """Take the next try of a queued message; None if another worker took it or it is done. Returns the try number."""
    with get_store().writing() as session:
        taken = session.execute(update(OutboundMail).where(
            OutboundMail.id == mail.id, OutboundMail.status == "queued", OutboundMail.attempts == mail.attempts)
            .values(attempts=mail.attempts + 1)).rowcount
    return mail.attempts + 1 if taken else None


def finish(mail_id: int, status: str, error: str | None = None) -> None:
    """sent, cancelled (nothing left to send: the form was submitted, the draft expired), or failed."""
    values = {"status": status, "error": error}
    if status == "sent":
        values["sent_at"] = utcnow()
    with get_store().writing() as session:
        session.execute(update(OutboundMail).where(OutboundMail.id == mail_id).values(**values))


def note_error(mail_id: int, error: str) -> None:
    """A try failed and another will follow: keep the reason (a class name) for staff."""
    with get_store().writing() as session:
        session.execute(update(OutboundMail).where(OutboundMail.id == mail_id).values(error=error))


def retry(mail_id: int) -> bool:
    """Staff asked to send a failed message again: back to queued, with fresh tries."""
    with get_store().writing() as session:
        return bool(session.execute(update(OutboundMail).where(OutboundMail.id == mail_id, OutboundMail.status == "failed")
                                    .values(status="queued", attempts=0, error=None)).rowcount)


def latest_for_appointments(ids: list[int]) -> dict[int, tuple[str, str, str | None]]:
    """For staff pages: each appointment's latest invitation or reminder as (kind, status, error)."""
    if not ids:
        return {}
    newest = (select(func.max(OutboundMail.id)).where(OutboundMail.appointment_id.in_(ids),
                                                     OutboundMail.kind.in_(VISIBLE))
              .group_by(OutboundMail.appointment_id))
    with get_store().reading() as session:
        rows = session.execute(select(OutboundMail.appointment_id, OutboundMail.kind, OutboundMail.status,
                                      OutboundMail.error).where(OutboundMail.id.in_(newest))).all()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def counts() -> dict[str, int]:
    with get_store().reading() as session:
        return dict(session.execute(select(OutboundMail.status, func.count()).group_by(OutboundMail.status)).all())


def queued_ids(limit: int, created_before: dt.datetime | None = None) -> list[int]:
    query = select(OutboundMail.id).where(OutboundMail.status == "queued")
    if created_before is not None:
        query = query.where(OutboundMail.created_at < created_before)
    with get_store().reading() as session:
        return list(session.scalars(query.order_by(OutboundMail.id).limit(limit)))


def visit_of_submission(submission_id: str) -> dt.datetime | None:
    """The booked visit of the appointment this submission is bound to, if any (for the staff notification)."""
    from ..models import Appointment

    with get_store().reading() as session:
        return session.scalar(select(Appointment.visit_at).where(Appointment.submission_id == submission_id))
