"""Turn a finished draft into a stored submission, exactly once."""

from __future__ import annotations

from . import questionnaire_ext
from .db import get_store
from .models import Draft, Submission
from .store import submissions


def already_submitted(submit_token: str | None) -> Submission | None:
    """Return the submission made with this one-time token, if any."""
    if not submit_token or len(submit_token) > 64:
        return None
    return submissions.get_by_token(get_store(), submit_token)


def submit(draft: Draft, draft_token: str, answers: dict, language: str) -> Submission:
    """Commit the answers; a repeat with the same draft returns the first submission.

    The draft is the one loaded at the start of the request: a concurrent
    submit may already have deleted it, and its submit token still decides.
    """
    store = get_store()
    q = questionnaire_ext.get()
    submission, _created = submissions.submit(
        store,
        submit_token=draft.submit_token,
        questionnaire_id=q.id,
        questionnaire_version=q.version,
        answers=answers,
        language=language,
        draft_token=draft_token,
    )
    return submission
