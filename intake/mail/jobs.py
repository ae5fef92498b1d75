"""The mail jobs: send one queued message, tell staff of a submit, and the periodic round (reminders, digest).

- send_mail(mail_id): one try at one outbound_mail row; claimed with a conditional UPDATE on its
  attempt count, so a duplicate job never sends twice at once. Raises on failure: Huey retries
  (RETRIES times, 1, 2, 4, 8 minutes apart); after the last try the row is "failed".
- notify_submitted(submission_id): the only thing a submit enqueues. It records the staff message
  under once_key "submitted:<id>" (at most one per submission) and sends it in the same job.
- send_due_mail(): every 15 minutes, and `flask --app app send-reminders` for setups without a
  worker: reminders, the daily digest, messages whose job was lost, and kiosk requests recorded
  before e-mail existed.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app

from .. import jobs
from ..models import utcnow
from . import (
    compose,
    kinds,  # noqa: F401 - registers the builders
    outbox,
    transport,
)

log = logging.getLogger(__name__)

RETRY_DELAY = 60
ROUND_MINUTES = 15
LOST_AFTER = dt.timedelta(minutes=30)  # longer than a message's tries take (1 + 2 + 4 + 8 minutes apart)


class MailError(jobs.JobError):
    """A fixed sentence for administrators, never an address."""


RETRIES = 4


def _retries() -> int:
    return RETRIES


def send(mail_id: int) -> str | None:
    """Try to send one queued message; return "smtp", the .eml path, "cancelled", or None (not ours to send)."""
    mail = outbox.get(mail_id)
    if mail is None or mail.status != "queued":
        return None
    attempt = outbox.claim(mail)
    if attempt is None:
        return None
    try:
        built = compose.build(mail)
        if built is None:
            outbox.finish(mail_id, "cancelled")
            return "cancelled"
        where = transport.deliver(built, f"{mail.id}-{mail.kind}")
    except Exception as exc:
        name = type(exc).__name__
        final = jobs.queue.queue_for().immediate or attempt > _retries()
        if final:
            outbox.finish(mail_id, "failed", name)
        else:
            outbox.note_error(mail_id, name)
        log.warning("e-mail %s (%s) try %d failed: %s%s", mail_id, mail.kind, attempt, name,
                    "; giving up" if final else "; will retry")
        raise MailError(f"e-mail {mail_id} ({mail.kind}) not sent: {name}") from None
    outbox.finish(mail_id, "sent")
    log.info("e-mail %s (%s) sent%s", mail_id, mail.kind, "" if where == "smtp" else " to the mail folder")
    return where


@jobs.task(retries=RETRIES, retry_delay=RETRY_DELAY, retry_backoff=2, priority=jobs.NORMAL)
def send_mail(mail_id: int) -> None:
    """One try. A row that failed for good runs again only when an administrator retries the job (Jobs page)."""
    revive(mail_id)
    send(mail_id)


def revive(mail_id: int) -> None:
    mail = outbox.get(mail_id)
    if mail is not None and mail.status == "failed":
        outbox.retry(mail_id)


def queue(kind: str, **fields) -> int | None:
    """Record a message and enqueue its job; None if its once_key was used before."""
    mail_id = outbox.add(kind, **fields)
    if mail_id is not None:
        jobs.enqueue(send_mail, mail_id)
    return mail_id


@jobs.task(retries=RETRIES, retry_delay=RETRY_DELAY, retry_backoff=2, priority=jobs.NORMAL)
def notify_submitted(submission_id: str) -> None:
    address = current_app.config["NOTIFY_EMAIL"]
    if not address:
        return
    once_key = f"submitted:{submission_id}"
    if outbox.add("submitted", address=address, once_key=once_key, submission_id=submission_id) is None:
        pass  # recorded by an earlier try of this job: send() sends it only if it is still queued
    mail = outbox.by_once_key(once_key)
    if mail is not None:
        revive(mail.id)
        send(mail.id)


def submitted(submission) -> None:
    """After the submit's commit: one enqueue, nothing else. A failure to enqueue never fails the patient."""
    if not current_app.config["NOTIFY_EMAIL"]:
        return
    try:
        jobs.enqueue(notify_submitted, submission.id)
    except Exception as exc:  # noqa: BLE001 - the answers are safe; staff still see it on the dashboard
        log.error("could not enqueue the staff notification for submission %s: %s", submission.id, type(exc).__name__)


def carry_kiosk_requests(limit: int = 200) -> int:
    """Kiosk requests recorded in mail_requests before e-mail existed: queue them (encrypted), then delete them."""
    from sqlalchemy import delete, select

    from ..db import get_store
    from ..models import MailRequest

    with get_store().reading() as session:
        pending = [(r.id, r.draft_id, r.address, r.language) for r in
                   session.scalars(select(MailRequest).where(MailRequest.sent_at.is_(None)).limit(limit))]
    carried = 0
    for request_id, draft_id, address, language in pending:
        # Recorded first under a once_key (two workers never both send it), then the plaintext row goes.
        if queue("resume_link", address=address, language=language, draft_id=draft_id,
                 once_key=f"kiosk-request:{request_id}") is not None:
            carried += 1
        with get_store().writing() as session:
            session.execute(delete(MailRequest).where(MailRequest.id == request_id))
    return carried


def requeue_lost(older_than: dt.timedelta = LOST_AFTER) -> int:
    """Queued rows whose job is gone (a crash between commit and enqueue, a flushed queue): enqueue them again.

    A healthy message is sent or failed within its retries (about 15 minutes); a second job for one
    still in flight finds it claimed or sent, and sends nothing.
    """
    ids = outbox.queued_ids(500, created_before=utcnow() - older_than)
    for mail_id in ids:
        jobs.enqueue(send_mail, mail_id)
    return len(ids)


def due_round() -> dict[str, int]:
    """Everything that is due now: safe to run often and on several workers at once (once_key decides)."""
    from . import schedule

    done = {"kiosk requests": carry_kiosk_requests(), "e-mails queued again": requeue_lost()}
    done.update(schedule.run_due())
    return done


@jobs.periodic(minutes=ROUND_MINUTES, priority=jobs.LOW)
def send_due_mail() -> None:
    done = due_round()
    if any(done.values()):
        log.info("mail round: %s", ", ".join(f"{count} {what}" for what, count in done.items()))


def send_queued(limit: int = 500) -> tuple[int, int]:
    """Send queued messages in this process (the command, without a worker); (sent, failed)."""
    sent = failed = 0
    for mail_id in outbox.queued_ids(limit):
        try:
            if send(mail_id) not in (None, "cancelled"):
                sent += 1
        except MailError:
            failed += 1
    return sent, failed
