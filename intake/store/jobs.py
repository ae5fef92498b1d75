"""job_failures: background jobs that failed for good, for administrators to see and run again."""

from __future__ import annotations

from sqlalchemy import select, update

from ..models import JobFailure, utcnow
from . import Store


def record_failure(store: Store, task: str, args: list, error: str) -> None:
    """Add a failure. `args` are ids (job authors never pass patient data); `error` a class name."""
    safe_args = [a if isinstance(a, (int, float, bool)) or a is None else str(a)[:100] for a in args][:10]
    with store.writing() as session:
        session.add(JobFailure(task=task[:100], args=safe_args, error=(error or "error")[:200], attempts=1,
                               failed_at=utcnow()))


def open_failures(store: Store, limit: int = 100) -> list[JobFailure]:
    """Failures nobody retried yet, newest first."""
    with store.reading() as session:
        return list(session.scalars(select(JobFailure).where(JobFailure.retried_at.is_(None))
                                    .order_by(JobFailure.id.desc()).limit(limit)))


def get(store: Store, failure_id: int) -> JobFailure | None:
    with store.reading() as session:
        return session.get(JobFailure, failure_id)


def mark_retried(store: Store, failure_id: int) -> bool:
    with store.writing() as session:
        return session.execute(update(JobFailure).where(JobFailure.id == failure_id, JobFailure.retried_at.is_(None))
                               .values(retried_at=utcnow())).rowcount == 1
