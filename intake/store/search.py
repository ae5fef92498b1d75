"""Submissions as staff see them: search, filter, page; stream for export; mark reviewed.

The list shows one page at a time; exports walk the table in keyset order,
one short read per batch, so memory stays flat however many rows there are.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_, select, tuple_
from sqlalchemy.orm import Session

from ..models import Submission, utcnow
from . import Store
from .submissions import fold

REFERENCE = re.compile(r"^[A-Z2-9]{3}-?[A-Z2-9]{3}$")
US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
EXPORT_COLUMNS = (
    Submission.id, Submission.reference, Submission.questionnaire_id, Submission.questionnaire_version,
    Submission.submitted_at, Submission.status, Submission.language, Submission.flags, Submission.has_stop_flags,
    Submission.reviewed_at, Submission.answers,
)


@dataclass(frozen=True)
class Filters:
    q: str = ""
    visit_from: dt.date | None = None
    visit_to: dt.date | None = None
    status: str = ""  # "", "new" or "reviewed"
    stop: bool = False


def parse_date(text: str) -> dt.date | None:
    """ISO (1986-04-12) or US (4/12/1986) dates; None if it is not one."""
    text = text.strip()
    try:
        if match := US_DATE.match(text):
            month, day, year = (int(g) for g in match.groups())
            return dt.date(year, month, day)
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _term(q: str):
    """A date searches date of birth; a reference-shaped word also the reference; else every word in the name."""
    q = q.strip()
    if born := parse_date(q):
        return Submission.date_of_birth == born
    words = [w for w in fold(q).split() if w][:6]
    by_name = and_(*(Submission.patient_name.contains(w, autoescape=True) for w in words))
    if REFERENCE.match(q.upper()):
        code = q.upper().replace("-", "")
        return or_(Submission.reference == f"{code[:3]}-{code[3:]}", by_name)
    return by_name


def _where(filters: Filters) -> list:
    clauses = []
    if filters.q.strip():
        clauses.append(_term(filters.q))
    if filters.visit_from:
        clauses.append(Submission.visit_date >= filters.visit_from)
    if filters.visit_to:
        clauses.append(Submission.visit_date <= filters.visit_to)
    if filters.status in ("new", "reviewed"):
        clauses.append(Submission.status == filters.status)
    if filters.stop:
        clauses.append(Submission.has_stop_flags.is_(True))
    return clauses


LIST_COLUMNS = (
    Submission.id, Submission.reference, Submission.patient_name, Submission.date_of_birth, Submission.visit_date,
    Submission.submitted_at, Submission.status, Submission.flags, Submission.has_stop_flags, Submission.answers,
)


def page(store: Store, filters: Filters, today: dt.date, *, limit: int, offset: int) -> tuple[list[Any], int]:
    """One page of matches, today's and upcoming visits first (soonest first), then the newest submitted."""
    coming = Submission.visit_date >= today
    query = (
        select(*LIST_COLUMNS).where(*_where(filters))
        .order_by(case((coming, 0), else_=1), case((coming, Submission.visit_date)), Submission.submitted_at.desc(),
                  Submission.id)
        .limit(limit).offset(offset)
    )
    with store.reading() as session:
        total = session.scalar(select(func.count()).select_from(Submission).where(*_where(filters)))
        return list(session.execute(query).all()), total


def counts(store: Store, today: dt.date) -> dict[str, int]:
    """The numbers at the top of the dashboard."""
    def total(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
    query = select(
        total(Submission.visit_date == today).label("today"),
        total(Submission.visit_date > today).label("upcoming"),
        total(Submission.status == "new").label("new"),
        total(and_(Submission.status == "new", Submission.has_stop_flags.is_(True))).label("stop"),
    )
    with store.reading() as session:
        return dict(session.execute(query).one()._mapping)


def _range(start: dt.datetime | None, end: dt.datetime | None) -> list:
    clauses = []
    if start:
        clauses.append(Submission.submitted_at >= start)
    if end:
        clauses.append(Submission.submitted_at < end)
    return clauses


def count_between(store: Store, start: dt.datetime | None, end: dt.datetime | None) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(Submission).where(*_range(start, end)))


def iter_rows(store: Store, start: dt.datetime | None, end: dt.datetime | None, *, batch: int = 1000,
              columns: tuple = EXPORT_COLUMNS) -> Iterator[Any]:
    """Yield export rows oldest first, `batch` at a time, keyset-paged on (submitted_at, id).

    Each batch is its own short read, so a slow download never holds a
    transaction open and never holds more than one batch in memory.
    """
    after: tuple[dt.datetime, str] | None = None
    key = tuple_(Submission.submitted_at, Submission.id)
    while True:
        query = select(*columns, Submission.submitted_at.label("_at"), Submission.id.label("_id")).where(*_range(start, end))
        if after:
            query = query.where(key > tuple_(*after))
        query = query.order_by(Submission.submitted_at, Submission.id).limit(batch)
        with store.reading() as session:
            rows = session.execute(query).all()
        if not rows:
            return
        yield from rows
        after = (rows[-1]._at, rows[-1]._id)


def iter_submissions(store: Store, start: dt.datetime | None, end: dt.datetime | None, *,
                     batch: int = 100) -> Iterator[Submission]:
    """Like iter_rows, but whole Submission objects (detached), for PDF rendering."""
    for row in iter_rows(store, start, end, batch=batch, columns=(Submission.id,)):
        with store.reading() as session:
            submission = session.get(Submission, row.id)
        if submission is not None:
            yield submission


def mark_reviewed(session: Session, submission_id: str, user_id: int, note: str) -> Submission | None:
    """Set status reviewed with the physician's note, inside the caller's transaction."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        return None
    submission.status = "reviewed"
    submission.review_note = note or None
    submission.reviewed_by = user_id
    submission.reviewed_at = utcnow()
    return submission
