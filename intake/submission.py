"""Turn a finished draft into a stored submission, exactly once, then ask a worker for its PDF."""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app

from . import questionnaire_ext, renders, screening
from .db import get_store
from .mail import jobs as mail_jobs
from .models import Draft, Submission
from .store import submissions

log = logging.getLogger(__name__)


def already_submitted(submit_token: str | None) -> Submission | None:
    """Return the submission made with this one-time token, if any."""
    if not submit_token or len(submit_token) > 64:
        return None
    return submissions.get_by_token(get_store(), submit_token)


def submit(draft: Draft, draft_token: str, answers: dict, language: str) -> Submission:
    """Commit the answers with their screening flags; a repeat with the same draft returns the first submission.

    The draft is the one loaded at the start of the request: a concurrent
    submit may already have deleted it, and its submit token still decides.
    The PDF is claimed in the same commit and enqueued after it; a failure to
    enqueue never fails the patient's submit (the sweep finds it later).
    """
    store = get_store()
    q = questionnaire_ext.get()
    flags = screening.flag_dicts(answers, dt.date.today(), current_app.config.get("SCREENING_WINDOWS"))
    submission, created = submissions.submit(
        store,
        submit_token=draft.submit_token,
        questionnaire_id=q.id,
        questionnaire_version=q.version,
        answers=answers,
        flags=flags,
        rules_version=screening.RULES_VERSION,
        language=language,
        draft_token=draft_token,
        pdf_claim=renders.claim_at_submit,
    )
    if created:
        renders.submitted(submission)
        mail_jobs.submitted(submission)  # one enqueue: the staff notification, if configured
    return submission
