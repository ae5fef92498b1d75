"""Appointments do not outlive what they are for.

- Erasing a submission (intake.retention) deletes the appointment bound to it, with the patient's name,
  e-mail and mobile, when the reason is about the person (their request, the wrong person, the retention
  period). For "duplicate" or "entered in error" the booking stays and only loses its form (the foreign
  key's ON DELETE SET NULL), so the front desk still sees the visit.
- An appointment that never got a form is deleted APPOINTMENT_KEEP_DAYS (default 30) after its visit,
  by an hourly job; one with a form follows the form's retention.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app

from .. import audit, jobs
from ..models import utcnow
from ..retention import Eraser, register
from ..store import Store
from ..store import appointments as rows

KEEP_DAYS = 30
PERSONAL_REASONS = ("patient_request", "wrong_person", "retention_period")


def _erase_rows(session, erased) -> int:
    if erased.reason not in PERSONAL_REASONS:
        return 0
    return rows.delete_for_submission(session, erased.id)


register(Eraser("appointments", rows=_erase_rows))


def purge_past(store: Store, now: dt.datetime | None = None, keep_days: int | None = None) -> int:
    """Delete appointments with no form whose visit is more than keep_days ago; audit the count."""
    days = int(keep_days if keep_days is not None else current_app.config.get("APPOINTMENT_KEEP_DAYS") or KEEP_DAYS)
    count = rows.purge_unanswered_before(store, (now or utcnow()) - dt.timedelta(days=days))
    if count:
        with store.writing() as session:
            audit.record_in(session, "appointments_purged", actor_email="retention job",
                            detail={"count": count, "keep_days": days})
    return count


@jobs.periodic(minutes=60)
def purge_past_appointments() -> None:
    """The hourly job: appointments that never got a form, APPOINTMENT_KEEP_DAYS after their visit."""
    from ..db import get_store

    purge_past(get_store())
