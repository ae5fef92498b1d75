"""Returning patients in tests: an earlier submission, and the staff invitation's call that carries it forward.

`invite` calls the entry point as the invitation landing (intake.appointments.landing, GET /i/<token>) does,
then opens the draft by its resume link, so the page tests need no appointment; test_returning_invitation.py
goes through the real landing.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid

from intake import returning
from intake.models import Submission
from intake.store import submissions
from tests.walk import EXPECTED

EARLIER = dt.date(2026, 3, 12)  # the earlier form's date, as the PDF and the pages print it


def earlier_submission(app, *, on: dt.date = EARLIER, **answers) -> Submission:
    """Store a finished earlier submission (the walk's patient), dated `on`."""
    data = {**copy.deepcopy(EXPECTED), **answers}
    store = app.extensions["intake.store"]
    with app.app_context():
        submission, _ = submissions.submit(store, submit_token=uuid.uuid4().hex, questionnaire_id="consultation",
                                           questionnaire_version="2026.12.1", answers=data)
    with store.writing() as session:
        session.get(Submission, submission.id).submitted_at = dt.datetime.combine(on, dt.time(10), dt.UTC)
    return submissions.get(store, submission.id)


def start(app, earlier_id: str, *, language: str = "en", prefill: dict | None = None) -> tuple[str, object]:
    """Call the entry point as the invitation landing does; return (resume token, draft)."""
    with app.test_request_context():
        return returning.start_carried_draft(app.extensions["intake.store"], earlier_id, language=language,
                                             prefill=prefill, appointment_id=7)


def invite(app, client, earlier_id: str, **kwargs) -> str:
    """Start the carried draft and open it in `client` by its resume link; return the resume token."""
    token, _draft = start(app, earlier_id, **kwargs)
    assert client.get(f"/intake/resume/{token}").status_code == 302
    return token
