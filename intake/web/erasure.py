"""staff.erasure: an administrator erases one submission, after choosing a reason and typing its reference."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from .. import retention
from ..auth import requires
from ..db import get_store
from ..store import pdfs
from ..store import retention as retention_store
from ..store import submissions as submissions_store
from .present import display_name

bp = Blueprint("erasure", __name__)


def _same_reference(typed: str, reference: str) -> bool:
    return typed.strip().upper().replace("-", "").replace(" ", "") == reference.replace("-", "")


@bp.route("/submissions/<uuid:submission_id>/erase", methods=["GET", "POST"])
@requires("erase")
def erase(submission_id: uuid.UUID):
    submission = submissions_store.get(get_store(), str(submission_id))
    if submission is None:
        abort(404)
    errors: dict[str, str] = {}
    reason, typed = request.form.get("reason", ""), request.form.get("confirm", "")[:20]
    if request.method == "POST":
        if reason not in retention.REASONS:
            errors["reason"] = "Choose why this submission is erased."
        if not _same_reference(typed, submission.reference):
            errors["confirm"] = f"Type the reference {submission.reference} exactly, to show this is the right record."
        if not errors:
            result = retention.erase(current_app._get_current_object(), get_store(), submission.id, reason)
            if result is not None:
                flash(f"Submission {submission.reference} is erased: its answers, signature, flags, note, PDFs and "
                      "stored exports are gone. The audit trail keeps its reference, its answers fingerprint, "
                      "who erased it and why.", "success")
            return redirect(url_for("staff.dashboard"))
    return render_template(
        "staff/erase.html", s=submission, name=display_name(submission.answers), reasons=retention.REASONS,
        reason=reason, typed=typed, errors=errors, has_pdf=pdfs.stored(get_store(), submission.id),
        exports=retention_store.exports_since(get_store(), submission.submitted_at),
    ), 422 if errors else 200
