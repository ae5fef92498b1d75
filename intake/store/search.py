"""Submissions as staff see them: search, filter, page, count; stream for export; mark reviewed.

The list shows one page at a time in keyset order (listing); names are found
through their own index (names). Exports walk the table in keyset order too,
one short read per batch, so memory stays flat however many rows there are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal_column, select, true, tuple_
from sqlalchemy.orm import Session

from ..models import Submission, utcnow
from . import Store, listing
from .terms import Match, what_matches
from .terms import parse_date as parse_date  # noqa: F401 - part of this module's API since before terms existed

EXPORT_COLUMNS = (
    Submission.id, Submission.reference, Submission.questionnaire_id, Submission.questionnaire_version,
    Submission.submitted_at, Submission.status, Submission.language, Submission.flags, Submission.has_stop_flags,
    Submission.reviewed_at, Submission.answers,
)
LIST_COLUMNS = (
    Submission.id, Submission.reference, Submission.patient_name, Submission.date_of_birth, Submission.visit_date,
    Submission.submitted_at, Submission.status, Submission.flags, Submission.has_stop_flags, Submission.answers,
)
# A search with up to LIST_CAP matches is sorted in memory with an exact total; a broader one walks
# the dashboard's indexes with the name as a filter, and its total reads "1,000+".
LIST_CAP = 1000
# The numbers at the top stop counting here ("10,000+"), so a clinic that never marks anything
# reviewed still gets its dashboard in milliseconds.
COUNT_CAP = 10_000
# Written out, not bound, so the planners can prove that the partial indexes of migration 0007 apply.
NEW = Submission.status == literal_column("'new'")
STOP = Submission.has_stop_flags == true()


@dataclass(frozen=True)
class Filters:
    q: str = ""
    visit_from: dt.date | None = None
    visit_to: dt.date | None = None
    status: str = ""  # "", "new" or "reviewed"
    stop: bool = False


@dataclass(frozen=True)
class Page:
    """One page of the list: its rows, how many match (at most cap + 1) and whether there is more either side."""

    rows: list[Any]
    total: int
    cap: int
    has_before: bool = False
    has_after: bool = False

    @property
    def total_is_capped(self) -> bool:
        return self.total > self.cap


def _where(filters: Filters) -> list:
    clauses = []
    if filters.visit_from:
        clauses.append(Submission.visit_date >= filters.visit_from)
    if filters.visit_to:
        clauses.append(Submission.visit_date <= filters.visit_to)
    if filters.status == "new":
        clauses.append(NEW)
    elif filters.status == "reviewed":
        clauses.append(Submission.status == literal_column("'reviewed'"))
    if filters.stop:
        clauses.append(STOP)
    return clauses


def _few_matches(session: Session, search: Match, where: list) -> list[listing.Key] | None:
    """The keys of every match if the search's index finds at most LIST_CAP, else None (the list's indexes serve).

    The index is read once, and stops after LIST_CAP + 1 ids however common the name; only then are
    the matching rows read, by primary key, with the other filters.
    """
    ids = search.candidates(session, LIST_CAP)
    if len(ids) > LIST_CAP:
        return None
    if not ids:
        return []
    keys = select(Submission.visit_date, Submission.submitted_at, Submission.id).where(Submission.id.in_(ids), *where)
    return [listing.Key(*row) for row in session.execute(keys)]


def _capped(session: Session, cap: int, *where) -> int:
    """How many rows match, counting no further than cap + 1."""
    rows = select(Submission.id).where(*where).limit(cap + 1)
    if not where:  # read the primary key in order, so every plan stops after cap + 1 entries
        rows = rows.order_by(Submission.id)
    return session.scalar(select(func.count()).select_from(rows.subquery()))


def page(store: Store, filters: Filters, today: dt.date, *, limit: int, after: str | None = None,
         before: str | None = None) -> Page:
    """One page of matches in dashboard order (see listing), after or before the row with that id.

    Every statement reads one index range, as far as the page needs: a million rows cost what a hundred do.
    """
    where, by_visit = _where(filters), bool(filters.visit_from or filters.visit_to)
    with store.reading() as session:
        window = listing.Window(listing.key_of(session, after or before), before is None, limit)
        search = what_matches(session, filters.q) if filters.q.strip() else None
        if filters.q.strip() and search is None:
            return Page([], 0, LIST_CAP)
        keys = _few_matches(session, search, where) if search is not None else None
        if keys is not None:  # sorted here: every match's key is known, and so is the total
            chosen, more = listing.arrange(keys, today, by_visit, window)
            found = {row.id: row for row in session.execute(
                select(*LIST_COLUMNS).where(Submission.id.in_([k.id for k in chosen])))} if chosen else {}
            rows, total = [found[k.id] for k in chosen if k.id in found], len(keys)
        else:  # the list's own order, with the search (if any) as one more filter on each index entry
            if search is not None:
                where.append(search.row)
            rows, more = listing.fetch(session, LIST_COLUMNS, where, today, by_visit, window)
            total = LIST_CAP + 1 if search is not None and len(where) == 1 else _capped(session, LIST_CAP, *where)
    if window.forwards:
        return Page(rows, total, LIST_CAP, has_before=window.key is not None, has_after=more)
    if len(rows) < limit:  # fewer rows before the cursor than a page: show the first page
        return page(store, filters, today, limit=limit)
    return Page(rows, total, LIST_CAP, has_before=more, has_after=True)


def counts(store: Store, today: dt.date) -> dict[str, int]:
    """The numbers at the top of the dashboard, each from one index range, each stopping at COUNT_CAP + 1."""
    def capped(*where):
        rows = select(Submission.id).where(*where).limit(COUNT_CAP + 1).subquery()
        return select(func.count()).select_from(rows).scalar_subquery()
    query = select(
        capped(Submission.visit_date == today).label("today"),
        capped(Submission.visit_date > today).label("upcoming"),
        capped(NEW).label("new"),
        capped(NEW, STOP).label("stop"),
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
