"""export_jobs and export_parts: large exports made by workers, kept in chunks until they expire.

Every read and write of an export's bytes is in this module; the column (export_parts.data) is encrypted at
rest by its type (intake.crypto).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import delete, func, or_, select, update

from ..models import ExportJob, ExportPart, utcnow
from . import Store

ACTIVE = ("queued", "running")


def create(store: Store, job: ExportJob) -> ExportJob:
    with store.writing() as session:
        session.add(job)
    return job


def get(store: Store, job_id: str) -> ExportJob | None:
    with store.reading() as session:
        return session.get(ExportJob, job_id)


def for_user(store: Store, user_id: int, limit: int = 10) -> list[ExportJob]:
    with store.reading() as session:
        return list(session.scalars(select(ExportJob).where(ExportJob.user_id == user_id)
                                    .order_by(ExportJob.created_at.desc()).limit(limit)))


def claim(store: Store, job_id: str, worker: str, stale_before: dt.datetime, max_attempts: int) -> ExportJob | None:
    """Take the job to build it (queued, or running with a stale heartbeat); start again from nothing."""
    now = utcnow()
    with store.writing() as session:
        taken = session.execute(update(ExportJob).where(
            ExportJob.id == job_id, ExportJob.attempts < max_attempts,
            or_(ExportJob.status == "queued", (ExportJob.status == "running") & (ExportJob.heartbeat_at < stale_before)),
        ).values(status="running", claimed_by=worker, heartbeat_at=now, done=0, size=0, error=None,
                 attempts=ExportJob.attempts + 1)).rowcount
        if not taken:
            return None
        session.execute(delete(ExportPart).where(ExportPart.job_id == job_id))
        return session.get(ExportJob, job_id)


def progress(store: Store, job_id: str, worker: str, done: int) -> bool:
    """Heartbeat with the count so far; False if the job is no longer ours (reclaimed as dead)."""
    with store.writing() as session:
        return session.execute(update(ExportJob).where(ExportJob.id == job_id, ExportJob.claimed_by == worker,
                                                       ExportJob.status == "running")
                               .values(done=done, heartbeat_at=utcnow())).rowcount == 1


def add_part(store: Store, job_id: str, seq: int, data: bytes) -> None:
    with store.writing() as session:
        session.add(ExportPart(job_id=job_id, seq=seq, data=data))


def finish(store: Store, job_id: str, worker: str, done: int, size: int, keep: dt.timedelta) -> bool:
    now = utcnow()
    with store.writing() as session:
        return session.execute(update(ExportJob).where(ExportJob.id == job_id, ExportJob.claimed_by == worker)
                               .values(status="done", done=done, size=size, finished_at=now, heartbeat_at=now,
                                       expires_at=now + keep, claimed_by=None)).rowcount == 1


def fail(store: Store, job_id: str, error: str) -> None:
    """Failed for good: an error class name or a fixed sentence, never patient data."""
    with store.writing() as session:
        session.execute(delete(ExportPart).where(ExportPart.job_id == job_id))
        session.execute(update(ExportJob).where(ExportJob.id == job_id)
                        .values(status="failed", error=error[:200], finished_at=utcnow(), claimed_by=None))


def requeue(store: Store, job_id: str) -> None:
    """Mark a job whose worker died as waiting, so the sweep enqueues it again at once."""
    with store.writing() as session:
        session.execute(update(ExportJob).where(ExportJob.id == job_id, ExportJob.status == "running")
                        .values(status="queued", claimed_by=None, heartbeat_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))


def stale(store: Store, stale_before: dt.datetime) -> list[str]:
    """Jobs waiting or running that nobody touched since `stale_before`: their job or worker was lost."""
    with store.reading() as session:
        return list(session.scalars(select(ExportJob.id).where(ExportJob.status.in_(ACTIVE),
                                                               ExportJob.heartbeat_at < stale_before)))


def running_on_host(store: Store, host: str) -> list[tuple[str, str]]:
    with store.reading() as session:
        return [tuple(r) for r in session.execute(select(ExportJob.id, ExportJob.claimed_by).where(
            ExportJob.status == "running", ExportJob.claimed_by.like(f"{host}:%")))]


def parts(store: Store, job_id: str) -> Iterator[bytes]:
    """The file's bytes in order, one chunk per short read."""
    seq = -1
    while True:
        with store.reading() as session:
            row = session.execute(select(ExportPart.seq, ExportPart.data).where(ExportPart.job_id == job_id,
                                                                               ExportPart.seq > seq)
                                  .order_by(ExportPart.seq).limit(1)).first()
        if row is None:
            return
        seq = row.seq
        yield row.data


def mark_downloaded(store: Store, job_id: str) -> None:
    with store.writing() as session:
        session.execute(update(ExportJob).where(ExportJob.id == job_id).values(downloaded_at=utcnow()))


def purge(store: Store, now: dt.datetime) -> int:
    """Delete the bytes of exports past their time (the job row stays, as a record): return how many."""
    with store.writing() as session:
        ids = list(session.scalars(select(ExportJob.id).where(
            or_((ExportJob.status == "done") & (ExportJob.expires_at <= now),
                (ExportJob.status == "failed") & (ExportJob.finished_at <= now - dt.timedelta(days=1))))))
        if not ids:
            return 0
        session.execute(delete(ExportPart).where(ExportPart.job_id.in_(ids)))
        session.execute(update(ExportJob).where(ExportJob.id.in_(ids), ExportJob.status == "done")
                        .values(status="expired"))
        return len(ids)


def part_count(store: Store, job_id: str) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(ExportPart).where(ExportPart.job_id == job_id))


def delete_made_since(session, since: dt.datetime) -> int:
    """Delete every prepared export asked for at or after `since` (it may hold an erased submission)."""
    return session.execute(delete(ExportJob).where(ExportJob.created_at >= since)).rowcount
