"""The patient's side of an invitation: GET /i/<token> opens (or resumes) the form for that appointment.

- The token is looked up by its hash; an unknown, replaced or expired one gets the same friendly page
  (404), which tells nothing about why. The route is rate limited like /intake/resume/<token>, and the
  token is redacted from every log (intake.redact).
- A first opening starts a draft with the name, e-mail, mobile and visit date filled in (the patient can
  correct them), in the appointment's language, and binds it to the appointment. With an earlier
  submission named by staff, the history is carried forward (intake.returning, when installed).
- Later openings resume the bound draft: it gets a fresh resume token, remembered by this browser with
  the same shared-device rules as a resume link (intake.web.draft_access).
- The submit binds the submission to the appointment (intake.store.submissions.submit).
- A cancelled appointment's link shows a kind "this visit was cancelled" page (410, no form); a draft
  already started stays until the normal draft purge. Restoring the appointment makes the link work again.
"""

from __future__ import annotations

import importlib
import logging

from flask import Blueprint, current_app, flash, redirect, render_template
from flask_babel import gettext as _

from .. import appointments, i18n, questionnaire_ext
from ..db import get_store
from ..export import clinic_zone
from ..models import Appointment, utcnow
from ..store import appointments as rows
from ..store import drafts
from ..web import draft_access

log = logging.getLogger(__name__)


def prefill(appointment: Appointment) -> dict:
    """What the clinic knows, as answers of the first page: the patient can change every one."""
    first, _sep, last = appointment.patient_name.strip().partition(" ")
    answers = {"first_name": first[:80], "last_name": last.strip()[:80],
               "visit_date": appointment.visit_at.astimezone(clinic_zone()).date().isoformat()}
    if appointment.email:
        answers["email"] = appointment.email[:254]
    if appointment.mobile:
        answers["phone"] = appointment.mobile[:30]
    return {k: v for k, v in answers.items() if v}


def carried_draft_starter():
    """intake.returning.start_carried_draft (returning patients), or None where it is not installed."""
    try:
        module = importlib.import_module("intake.returning")
    except ImportError:
        return None
    return getattr(module, "start_carried_draft", None)


def _start(appointment: Appointment) -> tuple[str, object]:
    store, q = get_store(), questionnaire_ext.get()
    answers = prefill(appointment)
    start_carried = carried_draft_starter() if appointment.earlier_submission_id else None
    if start_carried is not None:
        try:
            return start_carried(store, appointment.earlier_submission_id, language=appointment.language,
                                 prefill=answers, appointment_id=appointment.id)
        except LookupError:  # the earlier submission was erased: an ordinary form, never an error for the patient
            log.info("appointment %s: earlier submission gone; starting a new form", appointment.id)
    return drafts.create(store, q.sections[0].id, appointment.language, answers=answers)


def invitation(token: str):
    store = get_store()
    appointment = appointments.by_token(store, token)
    if appointment is None:
        return render_template("patient/invitation_missing.html", clinic=current_app.config["CLINIC_NAME"]), 404
    i18n.choose(appointment.language)
    if appointment.cancelled_at is not None:  # the link stays known, so the patient learns why, not "no longer works"
        return render_template("patient/invitation_cancelled.html", clinic=current_app.config["CLINIC_NAME"],
                               phone=current_app.config.get("CLINIC_PHONE"),
                               email=current_app.config.get("CLINIC_EMAIL")), 410
    if appointment.submission_id is not None:
        return render_template("patient/invitation_done.html", clinic=current_app.config["CLINIC_NAME"])
    draft = drafts.get_by_id(store, appointment.draft_id) if appointment.draft_id else None
    draft_token = drafts.reissue_token(store, draft.id) if draft is not None else None
    if draft_token is None:
        draft_token, draft = _start(appointment)
        flash(_("Welcome. We filled in what we know from your booking: please check it and correct anything "
                "that is not right."), "info")
    rows.opened(store, appointment.id, draft.id, utcnow())
    draft_access.remember(draft_token)
    from ..web.patient import _page_url

    # Redirect at once, so the token leaves the address bar.
    return redirect(_page_url(draft.page))


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/i/<token>", "invitation", invitation)
