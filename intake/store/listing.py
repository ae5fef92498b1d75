"""The dashboard's order, one page at a time, by keyset: deep pages cost what page 1 costs.

The order has two parts, each one range of one index:
  1. coming: visits today and later, soonest first   (ix_submissions_coming, forwards);
  2. the rest: past or no visit date, newest first     (ix_submissions_newest, backwards),
     or, when the list is filtered by visit dates, latest visit first (ix_submissions_coming, backwards).
Within a part, ties are broken by submitted_at then id, so every row has one place.

A page starts after (or ends before) a row, named by its id. Its sort key is
read back by primary key, so a cursor never carries a date or a name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select, tuple_
from sqlalchemy.orm import Session

from ..models import Submission

S = Submission


@dataclass(frozen=True)
class Key:
    """Where a row sorts: its visit date, when it was submitted, its id."""

    visit_date: dt.date | None
    submitted_at: dt.datetime
    id: str

    def coming(self, today: dt.date) -> bool:
        return self.visit_date is not None and self.visit_date >= today


@dataclass(frozen=True)
class Part:
    """One part of the order: its rows, its sort columns and whether they ascend."""

    where: ColumnElement[bool]
    columns: tuple
    ascending: bool

    def key(self, key: Key) -> tuple:
        values = {"visit_date": key.visit_date, "submitted_at": key.submitted_at, "id": key.id}
        return tuple(values[c.key] for c in self.columns)

    def statement(self, columns: tuple, where: list, key: Key | None, forwards: bool, limit: int) -> Select:
        """Rows of this part after `key` (before it, going backwards), nearest first.

        The ids are chosen first, from the index alone (it carries the filter columns), and only
        those rows are read: PostgreSQL can then answer the range with an index-only scan.
        """
        up = self.ascending == forwards
        order = [c.asc() if up else c.desc() for c in self.columns]
        chosen = select(S.id).where(*where, self.where)
        if key is not None:
            edge = tuple_(*self.columns)
            chosen = chosen.where(edge > tuple_(*self.key(key)) if up else edge < tuple_(*self.key(key)))
        return select(*columns).where(S.id.in_(chosen.order_by(*order).limit(limit))).order_by(*order)


def parts(today: dt.date, by_visit: bool) -> tuple[Part, Part]:
    coming = Part(S.visit_date >= today, (S.visit_date, S.submitted_at, S.id), ascending=True)
    if by_visit:  # a visit-date filter excludes NULL visit dates anyway
        return coming, Part(S.visit_date < today, (S.visit_date, S.submitted_at, S.id), ascending=False)
    return coming, Part(or_(S.visit_date < today, S.visit_date.is_(None)), (S.submitted_at, S.id), ascending=False)


def key_of(session: Session, submission_id: str | None) -> Key | None:
    """The sort key of a row, read by primary key; None if there is no such row (any more)."""
    if not submission_id:
        return None
    row = session.execute(select(S.visit_date, S.submitted_at, S.id).where(S.id == submission_id)).first()
    return Key(*row) if row else None


@dataclass(frozen=True)
class Window:
    """Which rows to show: `limit` rows after `key`, or before it; from the start when key is None."""

    key: Key | None = None
    forwards: bool = True
    limit: int = 25


def fetch(session: Session, columns: tuple, where: list, today: dt.date, by_visit: bool,
          window: Window) -> tuple[list[Any], bool]:
    """Up to window.limit rows in dashboard order, and whether there are more beyond them in that direction.

    Each part adds its range and order to the filters in `where`, so each statement reads one
    index range, as far as the rows it returns.
    """
    ordered = list(parts(today, by_visit))
    if not window.forwards:
        ordered.reverse()
    if window.key is not None:
        mine = ordered[0] if window.key.coming(today) == window.forwards else ordered[1]
        ordered = ordered[ordered.index(mine):]
    rows: list[Any] = []
    for part in ordered:
        key = window.key if part is ordered[0] else None
        rows += session.execute(part.statement(columns, where, key, window.forwards, window.limit + 1 - len(rows))).all()
        if len(rows) > window.limit:
            break
    more = len(rows) > window.limit
    rows = rows[: window.limit]
    return (rows if window.forwards else rows[::-1]), more


def arrange(keys: Sequence[Key], today: dt.date, by_visit: bool, window: Window) -> tuple[list[Key], bool]:
    """The same order and window over keys already in memory (a search's few hundred matches)."""
    coming = sorted((k for k in keys if k.coming(today)), key=lambda k: (k.visit_date, k.submitted_at, k.id))
    rest = [k for k in keys if not k.coming(today)]
    if by_visit:
        rest.sort(key=lambda k: (k.visit_date, k.submitted_at, k.id), reverse=True)
    else:
        rest.sort(key=lambda k: (k.submitted_at, k.id), reverse=True)
    ordered = coming + rest
    if window.key is None:
        start = 0 if window.forwards else len(ordered)
    else:
        position = {k.id: i for i, k in enumerate(ordered)}
        start = position.get(window.key.id)
        if start is None:  # the cursor row no longer matches: place it by its key
            start = sum(1 for k in ordered if _before(k, window.key, today, by_visit))
        elif window.forwards:
            start += 1
    if window.forwards:
        return ordered[start:start + window.limit], start + window.limit < len(ordered)
    return ordered[max(0, start - window.limit):start], start - window.limit > 0


def _before(a: Key, b: Key, today: dt.date, by_visit: bool) -> bool:
    """Whether row a sorts before row b."""
    if a.coming(today) != b.coming(today):
        return a.coming(today)
    if a.coming(today):
        return (a.visit_date, a.submitted_at, a.id) < (b.visit_date, b.submitted_at, b.id)
    if by_visit:
        return (a.visit_date, a.submitted_at, a.id) > (b.visit_date, b.submitted_at, b.id)
    return (a.submitted_at, a.id) > (b.submitted_at, b.id)
