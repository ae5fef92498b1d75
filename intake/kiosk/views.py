"""Kiosk pages on the patient side: reset (the idle timer's target), "I'm still here", and "e-mail me my link"."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from ..web import draft_access
from . import outbox, patient_side
from .devices import current_device

bp = Blueprint("kiosk", __name__)


@bp.get("/kiosk/reset")
def reset():
    """Clear the patient's session and show the start screen (a GET: the no-script refresh lands here too)."""
    if current_device() is not None:
        patient_side.reset()
    return redirect(url_for("patient.start"))


@bp.post("/kiosk/still-here")
def still_here():
    """The page's "I'm still here" and activity pings: 204 while the patient's session lives, 409 once it was reset."""
    if current_device() is None or not patient_side.has_patient():
        return "", 409
    draft_access.resolve()  # keeps the patient's form open while they are still here
    return "", 204


@bp.post("/kiosk/email-link")
def email_link():
    if current_device() is None:
        abort(404)
    access = draft_access.resolve()
    if access.draft is None or not access.open:
        return redirect(url_for("patient.start"))
    address = request.form.get("link_email", "").strip()[:254]
    back = request.form.get("back", "")
    back = back if back.startswith("/intake/") and "//" not in back else url_for("patient.start")
    if not outbox.valid_address(address):
        flash(_("Please enter an email address like name@example.com, then press “Email me the link” again."), "error")
        return redirect(back)
    outbox.queue_resume_link(access.draft.id, address, str(get_locale()))
    flash(_("We will email a private link to %(address)s. It opens your saved answers for 7 days.",
            address=outbox.masked(address)), "success")
    return redirect(back)
