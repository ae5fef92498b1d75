"""Patient pages for shared devices and the privacy notice, registered on the patient blueprint.

The rules for when a remembered draft opens live in draft_access; these are the views around them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, has_request_context, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from .. import notice
from ..kiosk import current_device
from ..kiosk import patient_side as kiosk_side
from . import draft_access


def locked():
    """The draft is remembered here but not open: the start page asks who is there."""
    flash(_("For your privacy, please confirm it is you to carry on with this form."), "info")
    return redirect(url_for("patient.start"))


def stale_page():
    flash(_("That page belonged to a form that is closed on this device, so nothing was saved from it. "
            "Please start a new form, or open yours with its private link."), "warning")
    return redirect(url_for("patient.start"))


def kiosk_context() -> dict[str, Any]:
    if not has_request_context():  # e.g. the PDF template, rendered in a worker
        return {"kiosk_device": None, "kiosk_timer": False}
    device = current_device()
    return {"kiosk_device": device, "kiosk_timer": bool(device) and kiosk_side.has_patient(),
            "kiosk_idle": kiosk_side.idle_seconds(), "kiosk_warning": kiosk_side.warning_seconds()}


def unlock():
    """ "Continue as Maria?": the date of birth given on the form opens the remembered draft."""
    opened, left = draft_access.try_unlock(request.form.get("date_of_birth", ""))
    access = draft_access.resolve()
    draft = access.draft if access.open else None
    if opened and draft is not None:
        from .patient import _page_url

        return redirect(_page_url(draft.page))
    if left:
        flash(_("That date of birth does not match the one on the form. Please check it and try again."), "error")
    else:
        flash(_("For your privacy, that form is now closed on this device. You can still open it with its "
                "private link, or start a new form."), "warning")
    return redirect(url_for("patient.start"))


def privacy():
    """The clinic's privacy notice (intake.notice), in the patient's language."""
    return render_template("patient/privacy.html", notice=notice.render(str(get_locale())))


def linked_text(text: str, phrase: str, page: str) -> Markup:
    """The question's text with `phrase` as a link to a patient page (opens in a new tab: the form stays as typed)."""
    link = Markup('<a href="{}" target="_blank" rel="noopener">{}<span class="visually-hidden"> {}</span></a>').format(
        url_for(f"patient.{page}"), phrase, _("(opens in a new tab)"))
    before, found, after = text.partition(phrase)
    return escape(before) + link + escape(after) if found else escape(text) + Markup(" (") + link + Markup(")")


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/intake/continue", "unlock", unlock, methods=["POST"])
    bp.add_url_rule("/privacy", "privacy", privacy)
    bp.add_app_template_global(linked_text, "linked_text")
    bp.app_context_processor(kiosk_context)
