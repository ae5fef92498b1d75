"""What the dashboard's search box means, as predicates an index serves.

A date (1986-04-12 or 4/12/1986) searches the date of birth; a reference-shaped
word (K7Q-4M2, k7q4m2) the reference and the names; anything else every word in
the names (see names). Each meaning comes twice: as the ids its index finds,
when there are few matches, and as a test of one row, to filter a walk along
the dashboard's order when there are many.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from ..models import Submission
from . import names

REFERENCE = re.compile(r"^[A-Z2-9]{3}-?[A-Z2-9]{3}$")
US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


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


@dataclass(frozen=True)
class Match:
    """One query's matches: a test of one row, and the ids its index finds (at most cap + 1 of them)."""

    row: ColumnElement[bool]
    candidates: Callable[[Session, int], list[str]]


def what_matches(session: Session, q: str) -> Match | None:
    """The query's meaning on this database; None if nothing in it can match (no letter or digit)."""
    q = q.strip()
    if born := parse_date(q):
        match = Submission.date_of_birth == born
        return Match(match, lambda session, cap: list(session.scalars(select(Submission.id).where(match).limit(cap + 1))))
    found = names.words(q)
    if not found:
        return None
    dialect = session.get_bind().dialect.name

    def by_name(session: Session, cap: int) -> list[str]:
        return list(session.scalars(names.candidates(dialect, found, cap)))
    if REFERENCE.match(q.upper()):
        code = q.upper().replace("-", "")
        # The reference names at most one row: look it up now, so the row test needs only the id.
        if found_id := session.scalar(select(Submission.id).where(Submission.reference == f"{code[:3]}-{code[3:]}")):
            return Match(or_(Submission.id == found_id, names.row_match(found)),
                         lambda session, cap: [found_id, *(i for i in by_name(session, cap) if i != found_id)])
    return Match(names.row_match(found), by_name)
