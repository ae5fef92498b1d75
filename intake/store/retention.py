"""Deleting what must go: a submission and its rows, submissions past retention, and what an eraser needs to know."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from ..models import AuditEvent, RenderedPdf, Submission
from . import Store


def facts(session: Session, submission_id: str) -> Any | None:
    """What the tombstone keeps and the erasers need; no answers are read (or decrypted)."""
    return session.execute(
        select(Submission.id, Submission.reference, Submission.answers_sha256, Submission.submitted_at)
        .where(Submission.id == submission_id).with_for_update()
    ).first()


def delete_rendered_pdfs(session: Session, submission_id: str) -> int:
    return session.execute(delete(RenderedPdf).where(RenderedPdf.submission_id == submission_id)).rowcount


def delete_submission(session: Session, submission_id: str) -> int:
    return session.execute(delete(Submission).where(Submission.id == submission_id)).rowcount


def past_retention(store: Store, cutoff: dt.datetime, limit: int) -> list[str]:
    """Ids of submissions submitted before `cutoff` whose visit (if any) was before it too, oldest first."""
    query = (
        select(Submission.id)
        .where(Submission.submitted_at < cutoff,
               or_(Submission.visit_date.is_(None), Submission.visit_date < cutoff.date()))
        .order_by(Submission.submitted_at, Submission.id).limit(limit)
    )
    with store.reading() as session:
        return list(session.scalars(query))


def exports_since(store: Store, since: dt.datetime, limit: int = 50) -> list[AuditEvent]:
    """Exports taken out of Intake since `since` (streamed, or prepared and downloaded), newest first: files
    outside Intake that may hold a submission."""
    with store.reading() as session:
        return list(session.scalars(
            select(AuditEvent).where(and_(AuditEvent.action.in_(("export", "export_downloaded")), AuditEvent.at >= since))
            .order_by(AuditEvent.id.desc()).limit(limit)
        ))


def last_events(store: Store, actions: tuple[str, ...]) -> dict[str, AuditEvent]:
    """The newest audit event of each action, for the data protection page."""
    found: dict[str, AuditEvent] = {}
    with store.reading() as session:
        for action in actions:
            event = session.scalar(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id.desc()).limit(1))
            if event is not None:
                found[action] = event
    return found
