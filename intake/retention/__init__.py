"""Retention and erasure: expired drafts, submissions past the retention period, erasing one submission.

Owns:
- erasure.py  erase(): a submission's rows and files go, in one transaction with its audit tombstone;
              the ERASERS hook list, where tables added later register their own cleanup;
- purge.py    purge_drafts(), purge_past_retention() and run_periodic(), the one function the job
              queue calls on a schedule;
- cli.py      purge, purge-drafts, erase-submission.

May import: Flask, click, intake.jobs (to declare its hourly job), intake.store (SQL), intake.audit,
intake.models. Nothing imports it but the app factory and the staff erasure page (intake/web/erasure.py).

Scheduling: purge.purge_on_schedule is a periodic job (intake.jobs) that runs run_periodic() every hour
on the workers: drafts past 7 days; submissions past RETENTION_DAYS.
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
