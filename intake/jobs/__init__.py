"""Background jobs: one queue library (Huey) for PDF renders, exports, e-mail, reminders and purges.

What it owns:
- declaring jobs from any module: `@jobs.task(...)` and `@jobs.periodic(minutes=...)`;
- one Huey instance per app, chosen by configuration: SqliteHuey in the instance folder by default,
  PriorityRedisHuey when REDIS_URL is set, immediate (run in the caller) when JOBS_IMMEDIATE is set;
- `jobs.enqueue(job, *ids, priority=jobs.HIGH)`, retries with backoff, and failed jobs for administrators;
- the `flask worker` command (process workers: WeasyPrint never renders in two threads of one process).

What it may import: Flask, Huey, intake.store, intake.models and intake.crypto.files (the queue file is 0600).
It never imports the modules that declare jobs; they import it. (sweep.py is the exception: it is the
scheduler of PDF and export jobs.)

Rules for job authors: arguments are ids and dates, never patient data (they are stored in the queue
and shown to administrators); an exception's message never reaches a log or the database, only its
class name.

    from intake import jobs

    @jobs.task(retries=3, retry_delay=10)
    def send_invitation(invitation_id: int) -> None: ...

    @jobs.periodic(minutes=60)
    def purge_expired_drafts() -> None: ...

    jobs.enqueue(send_invitation, invitation.id, priority=jobs.HIGH)
"""

from __future__ import annotations

from .queue import enqueue, huey_for, init_app, run_now
from .registry import BACKGROUND, HIGH, LOW, NORMAL, Job, JobError, declared, find, periodic, task

__all__ = ["BACKGROUND", "HIGH", "LOW", "NORMAL", "Job", "JobError", "declared", "enqueue", "find", "huey_for",
           "init_app", "periodic", "run_now", "task"]
