"""PDFs stored in the database, rendered only by job workers, within a time and page budget.

- `render_pdf` is the job: claim, render with a time budget (PDF_RENDER_TIMEOUT seconds, SIGALRM
  in the worker process) and a page limit (PDF_MAX_PAGES), store the bytes in rendered_pdfs.
  A render past either limit is stopped and recorded as failed for good; the submission is untouched.
- `submitted(id)` enqueues a fresh submission's PDF after its commit (NORMAL priority).
- `wait_for(submission)` is the web side: serve stored bytes, or enqueue at HIGH priority and poll
  the database briefly. A web process never renders: it asks, then shows "being prepared".
- `ensure_pdf(submission)` renders here and now when nothing is stored (CLI, export jobs, tests).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import audit, jobs, pdf
from .crypto import files
from .db import get_store
from .models import RenderedPdf, utcnow
from .store import pdfs, submissions

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4  # the job's first try and its three retries
LIMIT_ERRORS = ("RenderTimeout", "PageLimitExceeded")


class RenderTimeout(Exception):
    """The render ran past PDF_RENDER_TIMEOUT seconds."""


@contextlib.contextmanager
def budget(seconds: float | None):
    """Raise RenderTimeout inside the block after `seconds` (main thread only: worker processes run jobs there)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise RenderTimeout()

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _stale_before() -> dt.datetime:
    return utcnow() - dt.timedelta(seconds=current_app.config["JOBS_LEASE_SECONDS"])


def _limit_hit(exc: BaseException) -> RenderTimeout | pdf.PageLimitExceeded | None:
    """The render limit behind `exc`, if any: the alarm may go off inside a database read (photos, keys), and then
    SQLAlchemy hands it on wrapped in a StatementError."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None or isinstance(seen, (RenderTimeout, pdf.PageLimitExceeded)):
            return seen
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return None


def _render(submission: Any, key: str, fingerprint: str) -> bytes:
    """Render and store, or record why not. Limits fail for good; other errors are raised for a retry."""
    store = get_store()
    try:
        with budget(current_app.config.get("PDF_RENDER_TIMEOUT")):
            data = pdf.render_summary(submission)
    except Exception as exc:
        limit = _limit_hit(exc)
        if limit is not None:
            name = type(limit).__name__
            log.error("PDF for submission %s stopped: %s", submission.id, name)
            pdfs.fail(store, submission.id, key, fingerprint, name, final_attempts=MAX_ATTEMPTS)
            raise limit from None
        # The stack and the class name only: the message may quote an answer.
        log.error("PDF render failed for submission %s: %s\n%s", submission.id, type(exc).__name__,
                  "".join(traceback.format_tb(exc.__traceback__)))
        pdfs.fail(store, submission.id, key, fingerprint, type(exc).__name__)
        raise
    pdfs.save(store, submission.id, key, fingerprint, data)
    return data


def ensure_pdf(submission: Any) -> bytes:
    """Return the stored PDF's bytes, rendering it in this process first if needed. Raises if that fails."""
    key = pdf.cache_key(submission)
    stored = pdfs.content(get_store(), submission.id, key)
    if stored is not None:
        return stored
    fingerprint = pdf.fingerprint()
    pdfs.start(get_store(), submission.id, key, fingerprint, jobs.queue.worker_identity())
    return _render(submission, key, fingerprint)


@jobs.task(retries=MAX_ATTEMPTS - 1, retry_delay=10, retry_backoff=3, priority=jobs.NORMAL)
def render_pdf(submission_id: str) -> None:
    """The job: render one submission's PDF for today's template and rules, unless it is stored already."""
    store = get_store()
    submission = submissions.get(store, submission_id)
    if submission is None:
        return
    key, fingerprint = pdf.cache_key(submission), pdf.fingerprint()
    if not pdfs.start(store, submission_id, key, fingerprint, jobs.queue.worker_identity()):
        return  # rendered already (a duplicate job, or a server that asked twice)
    try:
        _render(submission, key, fingerprint)
    except (RenderTimeout, pdf.PageLimitExceeded):
        return  # recorded as failed for good; retrying would only fail the same way


def request_render(submission: Any, *, urgent: bool, priority: int | None = None) -> bool:
    """Claim and enqueue this submission's PDF unless it is stored or already on its way; True if enqueued."""
    store = get_store()
    key, fingerprint = pdf.cache_key(submission), pdf.fingerprint()
    if not pdfs.claim(store, submission.id, key, fingerprint, stale_before=_stale_before(), max_attempts=MAX_ATTEMPTS,
                      urgent=urgent):
        return False
    try:
        jobs.enqueue(render_pdf, submission.id, priority=priority or (jobs.HIGH if urgent else jobs.NORMAL))
    except Exception:
        pdfs.release(store, submission.id, key)
        raise
    return True


def claim_at_submit(submission: Any) -> RenderedPdf:
    """The new submission's PDF claim ("queued"), committed with the submission itself (one fsync, not two)."""
    now = utcnow()
    return RenderedPdf(submission_id=submission.id, cache_key=pdf.cache_key(submission), fingerprint=pdf.fingerprint(),
                       status="queued", urgent=False, attempts=0, created_at=now, updated_at=now)


def submitted(submission: Any) -> None:
    """After the commit (which claimed the PDF): enqueue it. A failure here loses nothing: the sweep finds it."""
    try:
        jobs.enqueue(render_pdf, submission.id, priority=jobs.NORMAL)
    except Exception as exc:  # noqa: BLE001 - the answers are safe; the claim goes back and the sweep enqueues it
        log.error("could not enqueue the PDF for submission %s: %s", submission.id, type(exc).__name__)
        try:
            pdfs.release(get_store(), submission.id, pdf.cache_key(submission))
        except Exception as again:  # noqa: BLE001 - a stale claim is taken over by the sweep after its lease
            log.error("could not release the PDF claim for submission %s: %s", submission.id, type(again).__name__)


def wait_for(submission: Any, seconds: float | None = None) -> tuple[bytes | None, pdfs.State | None]:
    """The stored PDF, asking a worker for it (high priority) and polling briefly; (None, state) if not ready yet."""
    store = get_store()
    key = pdf.cache_key(submission)
    if (data := pdfs.content(store, submission.id, key)) is not None:
        return data, None
    immediate = jobs.queue.queue_for().immediate  # no retries there: a failure is final

    def final(state: pdfs.State | None) -> bool:
        return bool(state and state.status == "failed" and (state.attempts >= MAX_ATTEMPTS or immediate))

    current = pdfs.state(store, submission.id, key)
    if final(current) and not immediate:
        return None, current  # failed for good: staff choose "Make a fresh PDF"
    request_render(submission, urgent=True)
    deadline = time.monotonic() + (current_app.config["PDF_WAIT_SECONDS"] if seconds is None else seconds)
    while True:
        if (data := pdfs.content(store, submission.id, key)) is not None:
            return data, None
        current = pdfs.state(store, submission.id, key)
        if final(current) or time.monotonic() >= deadline:
            return None, current
        time.sleep(0.25)


def fresh(submission: Any) -> bool:
    """Staff asked for a fresh PDF: enqueue it urgently even if it failed for good before."""
    return request_render(submission, urgent=True)


@click.command("render-pdf")
@with_appcontext
@click.argument("submission_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="also write the PDF to this file")
def render_pdf_command(submission_id: str, output: str | None) -> None:
    """Render one submission's PDF here and now, store it in the database, and optionally write it to a file."""
    store = get_store()
    submission = submissions.get(store, submission_id) or submissions.get_by_reference(store, submission_id)
    if submission is None:
        raise click.ClickException(f"No submission with id or reference {submission_id!r}.")
    try:
        data = ensure_pdf(submission)
    except Exception as exc:  # noqa: BLE001 - say what failed, never the message
        raise click.ClickException(f"The PDF could not be made: {type(exc).__name__}.") from None
    if output:
        # A readable copy: 0600 whatever the umask, and recorded, since it leaves the encrypted store.
        files.write_private(Path(output), data)
        audit.record("pdf_downloaded", submission_id=submission.id, detail={"via": "cli"})
    click.echo(f"PDF for {submission.reference}: {len(data)} bytes, stored in the database"
               + (f", written to {output}" if output else "") + ".")


def init_app(app: Flask) -> None:
    app.config.setdefault("PDF_RENDER_TIMEOUT", 60)
    app.config.setdefault("PDF_WAIT_SECONDS", 4)
    app.cli.add_command(render_pdf_command)
