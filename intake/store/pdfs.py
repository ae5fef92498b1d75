"""rendered_pdfs: one row per (submission, cache key): its state, and the PDF itself once rendered.

Every read and write of the PDF bytes is in this module; the column (rendered_pdfs.content) is encrypted at rest by
its type (intake.crypto), so the bytes here are always the plain PDF. The state machine, driven by intake.renders and the sweep:

    (no row) -> queued -> rendering -> ok
                   ^          |
                   +--------- +-> failed (attempts counted; limits fail for good)

A queued or rendering row is a claim: nobody enqueues it again until the claim is stale (its
worker died: JOBS_LEASE_SECONDS old, or its host:pid is gone) or it failed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, false, or_, select, true, tuple_, update
from sqlalchemy.exc import IntegrityError

from ..models import RenderedPdf, Submission, utcnow
from . import Store

ACTIVE = ("queued", "rendering")


@dataclass(frozen=True)
class State:
    status: str
    attempts: int
    error: str | None
    updated_at: dt.datetime
    urgent: bool
    claimed_by: str | None
    size: int | None


def _where(submission_id: str, cache_key: str):
    return and_(RenderedPdf.submission_id == submission_id, RenderedPdf.cache_key == cache_key)


def state(store: Store, submission_id: str, cache_key: str) -> State | None:
    """The row's state, without its bytes."""
    columns = (RenderedPdf.status, RenderedPdf.attempts, RenderedPdf.error, RenderedPdf.updated_at, RenderedPdf.urgent,
               RenderedPdf.claimed_by, RenderedPdf.size)
    with store.reading() as session:
        row = session.execute(select(*columns).where(_where(submission_id, cache_key))).first()
    return State(*row) if row else None


def content(store: Store, submission_id: str, cache_key: str) -> bytes | None:
    """The stored PDF, or None if it is not rendered (yet)."""
    with store.reading() as session:
        data = session.scalar(select(RenderedPdf.content).where(_where(submission_id, cache_key),
                                                                  RenderedPdf.status == "ok"))
    return data


def stored(store: Store, submission_id: str) -> bool:
    """Whether any PDF of the submission is stored (without reading its bytes)."""
    with store.reading() as session:
        return session.scalar(select(RenderedPdf.id).where(RenderedPdf.submission_id == submission_id,
                                                           RenderedPdf.status == "ok").limit(1)) is not None


def latest_content(store: Store, submission_id: str) -> bytes | None:
    """The newest stored PDF of a submission, whatever its cache key (verify-submission reads its seal)."""
    with store.reading() as session:
        return session.scalar(select(RenderedPdf.content).where(RenderedPdf.submission_id == submission_id,
                                                                RenderedPdf.status == "ok")
                              .order_by(RenderedPdf.updated_at.desc()).limit(1))


def claim(store: Store, submission_id: str, cache_key: str, fingerprint: str, *, stale_before: dt.datetime,
          max_attempts: int, urgent: bool = False) -> bool:
    """Mark it queued if nobody else has it; return whether we did (then the caller enqueues it).

    An urgent claim (staff waiting for it) also takes over a queued, not yet urgent row, so it is
    enqueued again at high priority, and gives a failed PDF one more try.
    """
    now = utcnow()
    eligible = or_(
        and_(RenderedPdf.status == "failed", true() if urgent else RenderedPdf.attempts < max_attempts),
        and_(RenderedPdf.status.in_(ACTIVE), RenderedPdf.updated_at < stale_before),
        and_(RenderedPdf.status == "queued", RenderedPdf.urgent.is_(False)) if urgent else false(),
        RenderedPdf.status == "pending",
    )
    try:
        with store.writing() as session:
            exists = session.scalar(select(RenderedPdf.id).where(_where(submission_id, cache_key)))
            if exists is None:
                session.add(RenderedPdf(submission_id=submission_id, cache_key=cache_key, fingerprint=fingerprint,
                                        status="queued", urgent=urgent, attempts=0, created_at=now, updated_at=now))
                return True
            values = {"status": "queued", "urgent": urgent, "updated_at": now, "claimed_by": None}
            if urgent:
                values["attempts"] = 0
            done = session.execute(update(RenderedPdf).where(RenderedPdf.id == exists, eligible).values(**values))
            return done.rowcount == 1
    except IntegrityError:
        return False  # someone else inserted it first


def release(store: Store, submission_id: str, cache_key: str) -> bool:
    """Give a claim back (the enqueue failed, or its job was lost), so the sweep finds it again at once."""
    with store.writing() as session:
        return session.execute(update(RenderedPdf).where(_where(submission_id, cache_key), RenderedPdf.status == "queued")
                               .values(status="pending", updated_at=utcnow())).rowcount == 1


def queued(store: Store, limit: int = 10_000) -> list[tuple[str, str]]:
    """(submission_id, cache_key) of claims waiting for a worker."""
    with store.reading() as session:
        return [tuple(row) for row in session.execute(
            select(RenderedPdf.submission_id, RenderedPdf.cache_key).where(RenderedPdf.status == "queued").limit(limit))]


def start(store: Store, submission_id: str, cache_key: str, fingerprint: str, worker: str) -> bool:
    """Mark it rendering by `worker`; False if it is already rendered."""
    now = utcnow()
    with store.writing() as session:
        row = session.scalar(select(RenderedPdf).where(_where(submission_id, cache_key)))
        if row is None:
            row = RenderedPdf(submission_id=submission_id, cache_key=cache_key, attempts=0, created_at=now)
            session.add(row)
        elif row.status == "ok":
            return False
        row.fingerprint, row.status, row.claimed_by, row.updated_at = fingerprint, "rendering", worker, now
        row.attempts = (row.attempts or 0) + 1
        return True


def save(store: Store, submission_id: str, cache_key: str, fingerprint: str, data: bytes) -> None:
    """Store the rendered PDF (upsert: a CLI render may come without a claim)."""
    now = utcnow()
    with store.writing() as session:
        row = session.scalar(select(RenderedPdf).where(_where(submission_id, cache_key)))
        if row is None:
            row = RenderedPdf(submission_id=submission_id, cache_key=cache_key, attempts=1, created_at=now)
            session.add(row)
        row.fingerprint, row.status, row.error, row.claimed_by, row.urgent = fingerprint, "ok", None, None, False
        row.content, row.size, row.updated_at = data, len(data), now


def fail(store: Store, submission_id: str, cache_key: str, fingerprint: str, error: str, *,
         final_attempts: int | None = None) -> None:
    """Record a failed attempt: an error class name, never patient data. `final_attempts` makes it final."""
    now = utcnow()
    with store.writing() as session:
        row = session.scalar(select(RenderedPdf).where(_where(submission_id, cache_key)))
        if row is None:
            row = RenderedPdf(submission_id=submission_id, cache_key=cache_key, attempts=1, created_at=now)
            session.add(row)
        row.fingerprint, row.status, row.error, row.claimed_by, row.updated_at = fingerprint, "failed", error[:200], None, now
        if final_attempts is not None:
            row.attempts = max(row.attempts or 0, final_attempts)


def missing(store: Store, fingerprint: str, *, before: tuple[dt.datetime, str] | None, scan: int,
            stale_before: dt.datetime, max_attempts: int) -> tuple[list[str], tuple[dt.datetime, str] | None]:
    """One keyset page of `scan` submissions, newest first, before `before`; return those without a PDF
    for `fingerprint` (and not claimed, not failed for good), and the cursor for the next page (None at the end).

    Two short indexed reads: the page by submitted_at, then rendered_pdfs by (submission_id, fingerprint).
    """
    query = select(Submission.id, Submission.submitted_at)
    if before:
        query = query.where(tuple_(Submission.submitted_at, Submission.id) < tuple_(*before))
    query = query.order_by(Submission.submitted_at.desc(), Submission.id.desc()).limit(scan)
    with store.reading() as session:
        page = session.execute(query).all()
        if not page:
            return [], None
        settled = set(session.scalars(select(RenderedPdf.submission_id).where(
            RenderedPdf.submission_id.in_([row.id for row in page]), RenderedPdf.fingerprint == fingerprint,
            or_(RenderedPdf.status == "ok",
                and_(RenderedPdf.status.in_(ACTIVE), RenderedPdf.updated_at >= stale_before),
                and_(RenderedPdf.status == "failed", RenderedPdf.attempts >= max_attempts)))))
    cursor = (page[-1].submitted_at, page[-1].id) if len(page) == scan else None
    return [row.id for row in page if row.id not in settled], cursor


def claims_on_host(store: Store, host: str) -> list[tuple[str, str, str]]:
    """(submission_id, cache_key, claimed_by) of renders in flight on workers of `host`."""
    with store.reading() as session:
        return [tuple(row) for row in session.execute(
            select(RenderedPdf.submission_id, RenderedPdf.cache_key, RenderedPdf.claimed_by)
            .where(RenderedPdf.status == "rendering", RenderedPdf.claimed_by.like(f"{host}:%")))]


def reclaim(store: Store, submission_id: str, cache_key: str, claimed_by: str) -> bool:
    """A render whose worker died: make it eligible for the sweep again."""
    with store.writing() as session:
        return session.execute(update(RenderedPdf).where(
            _where(submission_id, cache_key), RenderedPdf.status == "rendering", RenderedPdf.claimed_by == claimed_by)
            .values(status="pending", claimed_by=None, updated_at=utcnow())).rowcount == 1


def failures(store: Store, limit: int = 100) -> list[tuple[str, str, int, dt.datetime]]:
    """PDFs that failed for now or for good: (submission_id, error, attempts, when), newest first."""
    with store.reading() as session:
        return [tuple(row) for row in session.execute(
            select(RenderedPdf.submission_id, RenderedPdf.error, RenderedPdf.attempts, RenderedPdf.updated_at)
            .where(RenderedPdf.status == "failed").order_by(RenderedPdf.updated_at.desc()).limit(limit))]
