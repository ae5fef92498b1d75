"""Large exports as jobs: the ZIP of PDFs always, other formats over EXPORT_STREAM_MAX_ROWS rows.

A worker builds the file into export_parts (EXPORT_PART_BYTES each), with a heartbeat and a
done/total count the staff page shows. The person who asked may download it until it expires
(EXPORT_KEEP_HOURS), then a periodic job deletes the bytes. A job whose worker died is taken up
again by the sweep and built again from the start; it fails for good after MAX_ATTEMPTS.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from flask import current_app, g

from . import audit, jobs
from .db import get_store
from .export import Job
from .models import ExportJob, Submission, utcnow
from .store import exports, search, submissions

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


def runs_as_job(job: Job, count: int) -> bool:
    """Whether this export is built by a worker rather than streamed in the request."""
    return job.format == "pdf-zip" or count > current_app.config["EXPORT_STREAM_MAX_ROWS"]


def request(job: Job, count: int) -> str:
    """Record and enqueue an export for the signed-in person; return its id."""
    row = ExportJob(id=str(uuid.uuid4()), user_id=g.staff_user.id, format=job.format, date_from=job.start,
                    date_to=job.end, status="queued", total=count, done=0, size=0, attempts=0,
                    created_at=utcnow(), heartbeat_at=utcnow())
    exports.create(get_store(), row)
    audit.record("export_requested", detail={"format": job.format, "from": job.label_from, "to": job.label_to,
                                             "count": count, "export_id": row.id})
    jobs.enqueue(build_export, row.id)
    return row.id


def as_export(row: ExportJob) -> Job:
    return Job(row.format, row.date_from, row.date_to)


class _Parts:
    """Collect the writer's bytes and store them in chunks; heartbeat at most once a second."""

    def __init__(self, job_id: str, worker: str, part_bytes: int) -> None:
        self.job_id, self.worker, self.part_bytes = job_id, worker, part_bytes
        self.buffer: list[bytes] = []
        self.buffered = self.size = self.seq = self.done = 0
        self.beat = 0.0

    def write(self, data: bytes) -> None:
        self.buffer.append(data)
        self.buffered += len(data)
        if self.buffered >= self.part_bytes:
            self.flush(keep_tail=True)

    def flush(self, keep_tail: bool = False) -> None:
        """Store whole parts of part_bytes; the last, shorter one only at the end (or it stays buffered)."""
        data = b"".join(self.buffer)
        cut = len(data) - len(data) % self.part_bytes if keep_tail else len(data)
        for start in range(0, cut, self.part_bytes):
            piece = data[start:start + self.part_bytes]
            exports.add_part(get_store(), self.job_id, self.seq, piece)
            self.seq += 1
            self.size += len(piece)
        self.buffer = [data[cut:]] if cut < len(data) else []
        self.buffered = len(data) - cut

    def tick(self) -> None:
        self.done += 1
        if time.monotonic() - self.beat >= 1.0:
            self.beat = time.monotonic()
            if not exports.progress(get_store(), self.job_id, self.worker, self.done):
                raise LostClaim()


class LostClaim(Exception):
    """Another worker took this job over (we were thought dead): stop quietly."""


@jobs.task(retries=0, priority=jobs.NORMAL)
def build_export(job_id: str) -> None:
    """The job: build the export's file into the database, from the first row."""
    store, config = get_store(), current_app.config
    worker = jobs.queue.worker_identity()
    stale_before = utcnow() - dt.timedelta(seconds=config["EXPORT_LEASE_SECONDS"])
    row = exports.claim(store, job_id, worker, stale_before, MAX_ATTEMPTS)
    if row is None:
        return  # done, failed, expired, or being built by a live worker
    if row.format == "pdf-zip":
        _prefetch(row)
    sink = _Parts(job_id, worker, int(config["EXPORT_PART_BYTES"]))
    try:
        for chunk in as_export(row).stream(store, progress=sink.tick):
            sink.write(chunk)
        sink.flush()
    except LostClaim:
        return
    except Exception as exc:  # noqa: BLE001 - recorded by class name; the person can ask again
        log.error("export %s failed: %s", job_id, type(exc).__name__)
        if row.attempts < MAX_ATTEMPTS:
            exports.requeue(store, job_id)  # the sweep builds it again
            return
        exports.fail(store, job_id, type(exc).__name__)
        raise
    keep = dt.timedelta(hours=float(config["EXPORT_KEEP_HOURS"]))
    exports.finish(store, job_id, worker, sink.done, sink.size, keep)


def _prefetch(row: ExportJob) -> None:
    """Let the other workers render missing PDFs meanwhile: newest first, while this job starts from the oldest.

    Bounded (EXPORT_PREFETCH, the newest ones): past that, this job renders what is missing itself, in order.
    """
    from . import renders

    limit = int(current_app.config["EXPORT_PREFETCH"])
    if not limit:
        return
    newest = deque(search.iter_rows(get_store(), *as_export(row).bounds, columns=(Submission.id,)), maxlen=limit)
    for found in reversed(newest):
        submission = submissions.get(get_store(), found.id)
        if submission is not None:
            renders.request_render(submission, urgent=False, priority=jobs.NORMAL)


def reclaim_dead(host: str, alive: Callable[[int], bool]) -> int:
    """Exports that a dead worker of this host was building: waiting again."""
    count = 0
    for job_id, claimed_by in exports.running_on_host(get_store(), host):
        pid = (claimed_by or "").rsplit(":", 1)[-1]
        if pid.isdigit() and not alive(int(pid)):
            exports.requeue(get_store(), job_id)
            count += 1
    return count


def resume_stale() -> int:
    """Enqueue again every export that nobody is working on (lost job, dead worker)."""
    lease = dt.timedelta(seconds=current_app.config["EXPORT_LEASE_SECONDS"])
    ids = exports.stale(get_store(), utcnow() - lease)
    for job_id in ids:
        exports.requeue(get_store(), job_id)
        jobs.enqueue(build_export, job_id)
    return len(ids)


@jobs.periodic(minutes=10)
def purge_expired_exports() -> None:
    """Delete finished exports' bytes once their download time is over."""
    count = exports.purge(get_store(), utcnow())
    if count:
        log.info("deleted %d expired export file(s)", count)


def downloadable(row: ExportJob | None, user_id: int) -> bool:
    return bool(row and row.user_id == user_id and row.status == "done" and row.expires_at and row.expires_at > utcnow())


def record_download(row: ExportJob) -> None:
    exports.mark_downloaded(get_store(), row.id)
    audit.record("export_downloaded", detail={"format": row.format, "export_id": row.id, "count": row.done})


def init_app(app: Any) -> None:
    app.config.setdefault("EXPORT_STREAM_MAX_ROWS", 2000)
    app.config.setdefault("EXPORT_KEEP_HOURS", 24)
    app.config.setdefault("EXPORT_PART_BYTES", 1024 * 1024)
    app.config.setdefault("EXPORT_LEASE_SECONDS", 120)
    app.config.setdefault("EXPORT_PREFETCH", 1000)
