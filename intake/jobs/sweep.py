"""The sweep: find every submission without a PDF for today's template and rules, and every export
whose worker died, and enqueue them again. Runs at worker start and every SWEEP_MINUTES.

Why it stays sane at a million rows:
- **Bounded steps.** One step reads one keyset page of JOBS_SWEEP_SCAN submissions, newest first
  (an index range on submitted_at), then rendered_pdfs for just those ids by (submission_id,
  fingerprint): two short indexed reads, whatever the table's size.
- **Newest first, behind fresh work.** A step enqueues its renders at LOW priority, below fresh
  submits (NORMAL) and staff waiting for a PDF (HIGH). It then enqueues the next step, with its
  cursor, at BACKGROUND priority: the next step runs only once the queue has taken this step's
  renders, so the sweep never holds more than one page of renders in the queue, and a new
  template that makes a million PDFs stale is worked through page by page, never all at once.
- **Never twice at once.** Each render is claimed first with a conditional write on its
  rendered_pdfs row (queued, with a time); a claimed row is skipped until it is rendered, fails,
  or its claim goes stale (JOBS_LEASE_SECONDS, or at worker start when the host:pid that held it
  is gone). Two sweeps on two workers therefore never enqueue the same submission; the periodic
  start also skips while a chain is still walking (a marker in the queue's own storage).
- **Failures stop.** A PDF that failed MAX_ATTEMPTS times, or hit a render limit, is left for an
  administrator (Jobs page) instead of being retried forever.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time

from flask import current_app

from ..db import get_store
from ..models import utcnow
from ..store import pdfs, submissions
from . import queue as queue_mod
from .registry import BACKGROUND, LOW, periodic, task

log = logging.getLogger(__name__)

SWEEP_MINUTES = 5
MARKER = "sweep:last-step"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reclaim_dead_claims() -> int:
    """Renders and exports that workers of this host were doing when they died: make them eligible now."""
    from .. import export_jobs

    host = socket.gethostname()[:100]
    store = get_store()
    count = 0
    for submission_id, cache_key, claimed_by in pdfs.claims_on_host(store, host):
        pid = claimed_by.rsplit(":", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)) and pdfs.reclaim(store, submission_id, cache_key, claimed_by):
            count += 1
    return count + reclaim_lost_queued() + export_jobs.reclaim_dead(host, _alive)


def reclaim_lost_queued(limit: int = 10_000) -> int:
    """Claims whose job is no longer in the queue (a worker killed between taking it and starting it).

    Only at worker start, and only while the queue is short enough to read: a claim that a web
    process made a moment ago and is about to enqueue may be taken up twice, which costs one lookup.
    """
    huey = queue_mod.huey_for()
    if huey.pending_count() > limit:
        return 0
    waiting = {str(task.args[0]) for task in huey.pending() if task.args and type(task).__name__ == "render_pdf"}
    store = get_store()
    count = 0
    for submission_id, cache_key in pdfs.queued(store):
        if submission_id not in waiting and pdfs.release(store, submission_id, cache_key):
            count += 1
    return count


def step(before: tuple[dt.datetime, str] | None = None) -> tuple[int, tuple[dt.datetime, str] | None]:
    """One bounded step: enqueue the missing PDFs of one page; return how many and the next cursor."""
    from .. import pdf, renders

    store, config = get_store(), current_app.config
    stale_before = utcnow() - dt.timedelta(seconds=config["JOBS_LEASE_SECONDS"])
    missing, cursor = pdfs.missing(store, pdf.fingerprint(), before=before, scan=config.get("JOBS_SWEEP_SCAN", 500),
                                   stale_before=stale_before, max_attempts=renders.MAX_ATTEMPTS)
    enqueued = 0
    for submission_id in missing:
        submission = submissions.get(store, submission_id)
        if submission is not None and renders.request_render(submission, urgent=False, priority=LOW):
            enqueued += 1
    return enqueued, cursor


def _mark(huey) -> None:
    huey.storage.put_data(MARKER, str(time.time()).encode())


def _chain_active(huey) -> bool:
    raw = huey.storage.peek_data(MARKER)
    try:
        return time.time() - float(bytes(raw).decode()) < SWEEP_MINUTES * 60 * 2
    except (TypeError, ValueError):
        return False


@task(retries=2, retry_delay=30, priority=BACKGROUND)
def sweep_step(before_at: str | None = None, before_id: str | None = None) -> None:
    """One step of the chain; enqueues the next one behind this step's renders."""
    from .. import export_jobs

    huey = queue_mod.huey_for()
    _mark(huey)
    before = (dt.datetime.fromisoformat(before_at), before_id) if before_at and before_id else None
    if before is None:
        export_jobs.resume_stale()
    enqueued, cursor = step(before)
    if enqueued:
        log.info("sweep: enqueued %d PDF(s)", enqueued)
    if cursor is not None:
        queue_mod.enqueue(sweep_step, cursor[0].isoformat(), cursor[1], priority=BACKGROUND)
    else:
        huey.storage.delete_data(MARKER)


def start(force: bool = False) -> bool:
    """Start a chain from the newest submission, unless one is walking already (or `force`)."""
    huey = queue_mod.huey_for()
    if not force and _chain_active(huey):
        return False
    _mark(huey)
    queue_mod.enqueue(sweep_step, priority=BACKGROUND)
    return True


@periodic(minutes=SWEEP_MINUTES, priority=BACKGROUND)
def sweep() -> None:
    """Every few minutes: catch whatever nobody enqueued (a crash between commit and enqueue, a new template)."""
    start()
