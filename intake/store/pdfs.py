"""rendered_pdfs: one row per (submission, cache key), recording successes and failures."""

from __future__ import annotations

from sqlalchemy import select

from ..models import RenderedPdf, utcnow
from . import Store


def record(store: Store, submission_id: str, cache_key: str, *, path: str | None = None, error: str | None = None) -> None:
    """Note an attempt: ok with its path, or failed with an error name (never patient data)."""
    with store.writing() as session:
        row = session.scalar(select(RenderedPdf).where(
            RenderedPdf.submission_id == submission_id, RenderedPdf.cache_key == cache_key))
        if row is None:
            row = RenderedPdf(submission_id=submission_id, cache_key=cache_key, attempts=0, created_at=utcnow())
            session.add(row)
        row.attempts += 1
        row.status = "failed" if error else "ok"
        row.path = path
        row.error = error[:200] if error else None
        row.updated_at = utcnow()


def latest(store: Store, submission_id: str) -> RenderedPdf | None:
    with store.reading() as session:
        return session.scalar(select(RenderedPdf).where(RenderedPdf.submission_id == submission_id)
                              .order_by(RenderedPdf.updated_at.desc()).limit(1))
