"""Retention and erasure: expired drafts, submissions past the retention period, erasing one submission.

Owns:
- erasure.py  erase(): a submission's rows and files go, in one transaction with its audit tombstone;
              the ERASERS hook list, where tables added later register their own cleanup;
- purge.py    purge_drafts(), purge_past_retention() and run_periodic(), the one function the job
              queue calls on a schedule;
- cli.py      purge, purge-drafts, erase-submission.

May import: Flask, click, intake.store (SQL), intake.audit, intake.models. Nothing imports it but the
app factory, the staff erasure page (intake/web/erasure.py) and, at merge, the job queue.

Scheduling (the one line to wire into the periodic job queue, intake/jobs/, issue 8):

    @huey.periodic_task(crontab(minute="7"))          # hourly
    def purge() -> None: retention.run_periodic(app)  # drafts past 7 days; submissions past RETENTION_DAYS
"""

from __future__ import annotations

from flask import Flask

from .erasure import ERASERS, REASONS, Eraser, erase, register
from .purge import purge_drafts, purge_past_retention, run_periodic

__all__ = ["ERASERS", "REASONS", "Eraser", "erase", "init_app", "purge_drafts", "purge_past_retention", "register",
           "run_periodic"]


def init_app(app: Flask) -> None:
    from . import cli

    cli.init_app(app)
