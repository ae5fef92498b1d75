"""The periodic purge: drafts past their 7-day life, and submissions past the clinic's retention period.

run_periodic() is what the job queue runs every hour (purge_on_schedule below, a periodic job of
intake.jobs); `flask --app app purge` runs it by hand. Both steps are idempotent, so several workers
running it at once do no harm.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, current_app

from .. import audit, jobs
from ..models import utcnow
from ..store import Store, drafts, maintenance
from ..store import retention as retention_store
from .erasure import RETENTION_REASON, erase

MIN_RETENTION_DAYS = 30  # a typo must not wipe the records of last week
JOB_ACTOR = "retention job"


class RetentionError(ValueError):
    """RETENTION_DAYS is set to something that cannot be right."""


def retention_days(config: Any) -> int | None:
    """RETENTION_DAYS as a number of days, or None when retention is off (the default)."""
    value = config.get("RETENTION_DAYS")
    if value in (None, "", 0, "0", False):
        return None
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise RetentionError(f"RETENTION_DAYS must be a whole number of days, not {value!r}") from None
    if days < MIN_RETENTION_DAYS:
        raise RetentionError(f"RETENTION_DAYS is {days}; anything under {MIN_RETENTION_DAYS} days is refused as a "
                             "likely mistake (medical records are usually kept for years)")
    return days


def purge_drafts(store: Store) -> int:
    """Delete (not hide) every draft past its expiry; audit the count; return it."""
    count = drafts.purge_expired(store)
    if count:
        with store.writing() as session:
            audit.record_in(session, "drafts_purged", detail={"count": count}, actor_email=JOB_ACTOR)
        maintenance.checkpoint(store)
    return count


def purge_past_retention(app: Flask, store: Store, now: dt.datetime | None = None, batch: int = 200) -> int:
    """Erase every submission older than RETENTION_DAYS (by submission and visit date), each with a tombstone."""
    days = retention_days(app.config)
    if days is None:
        return 0
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    erased = 0
    while ids := retention_store.past_retention(store, cutoff, batch):
        for submission_id in ids:
            if erase(app, store, submission_id, RETENTION_REASON, actor_email=JOB_ACTOR):
                erased += 1
    if erased:
        with store.writing() as session:
            audit.record_in(session, "retention_purge", actor_email=JOB_ACTOR, detail={
                "count": erased, "retention_days": days, "submitted_before": cutoff.date().isoformat()})
    return erased


def run_periodic(app: Flask) -> dict[str, int]:
    """Everything the schedule runs, in an app context; returns what it deleted."""
    from ..db import get_store

    with app.app_context():
        store = get_store()
        return {"drafts": purge_drafts(store), "submissions": purge_past_retention(app, store)}


@jobs.periodic(minutes=60)
def purge_on_schedule() -> None:
    """The hourly job: expired drafts, and submissions past RETENTION_DAYS (when it is set)."""
    run_periodic(current_app._get_current_object())
