"""The messages: what each kind says, to whom, with which link. Registered on compose.BUILDERS."""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app
from flask_babel import gettext as _

from ..db import get_store
from ..store import drafts, submissions
from .compose import builder, external, language_of, message
from .outbox import Mail


@builder("resume_link")
def resume_link(mail: Mail) -> EmailMessage | None:
    """Asked for at a kiosk: a fresh resume token for the draft (the old link stops working), minted now."""
    if mail.draft_id is None or not mail.address:
        return None
    token = drafts.reissue_token(get_store(), mail.draft_id)
    if token is None:
        return None  # submitted or expired meanwhile: nothing to resume
    language = language_of(mail)
    return message("resume_link", to=mail.address, language=language,
                   subject=lambda: _("Your link to continue your form – %(clinic)s",
                                     clinic=current_app.config["CLINIC_NAME"]),
                   link=external("patient.resume", token=token), days=7)


@builder("submitted")
def submitted(mail: Mail) -> EmailMessage | None:
    """To staff: a reference, the visit date, stop flags yes/no. Never a name or an answer."""
    submission = submissions.get(get_store(), mail.submission_id) if mail.submission_id else None
    if submission is None or not mail.address:
        return None
    return message("submitted", to=mail.address, language=current_app.config["BABEL_DEFAULT_LOCALE"], automatic=True,
                   subject=lambda: f"Form submitted: {submission.reference}",
                   reference=submission.reference, visit_date=submission.visit_date,
                   stop_flags=bool(submission.has_stop_flags), staff_url=external("staff.dashboard"))
