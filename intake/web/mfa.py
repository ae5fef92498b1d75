"""Staff two-step sign-in pages: the code step, set-up with a QR code, recovery codes, and the admin's controls."""

from __future__ import annotations

import time

from flask import Blueprint, Response, flash, g, redirect, render_template, request, session, url_for

from .. import auth, kiosk
from ..auth import AuthError, requires
from ..db import get_store
from ..kiosk import devices
from ..mfa import service as mfa
from ..store import staff as staff_store

bp = Blueprint("mfa", __name__)
PENDING_FOR = 5 * 60  # seconds between a right password and its code


def signed_in_response(result: auth.LoginResult, target: str | None) -> Response:
    """After a complete sign-in: a fresh Flask session, the staff cookie, and, on a kiosk, the end of kiosk mode."""
    session.clear()  # a fresh CSRF token too: nothing from before sign-in carries over
    ended = kiosk.current_device() is not None
    response = redirect(url_for("staff.dashboard") if ended else auth.safe_next(target))
    auth.set_cookie(response, result.token)
    devices.end_on_sign_in(response, result.user)
    if ended:
        flash("Kiosk mode is off on this device. It shows the staff workspace again.", "info")
    return response


def start_code_step(user_id: int, target: str) -> None:
    """Remember, in the signed session cookie, that this browser gave the right password just now."""
    session.clear()
    session["mfa_pending"] = {"uid": user_id, "at": int(time.time()), "next": (target or "")[:500]}


def _pending() -> dict | None:
    pending = session.get("mfa_pending")
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_FOR:
        return None
    return pending


@bp.route("/login/code", methods=["GET", "POST"])
def code():
    pending = _pending()
    if pending is None:
        session.pop("mfa_pending", None)
        flash("Please sign in again: the code step lasts 5 minutes.", "warning")
        return redirect(url_for("staff.login"))
    if request.method == "GET":
        return render_template("staff/mfa_code.html")
    result = mfa.second_step(pending["uid"], request.form.get("code", "")[:64])
    if result.user is None:
        return render_template("staff/mfa_code.html", error=result.error), 401
    if result.method == "recovery":
        left = staff_store.count_recovery_codes(get_store(), result.user.id)
        response = signed_in_response(result, pending.get("next"))
        flash(f"You signed in with a recovery code; {left} left. Make new ones on your two-step sign-in page "
              "if you are running low.", "warning")
        return response
    return signed_in_response(result, pending.get("next"))


@bp.get("/account/two-step")
@requires("list")
def setup():
    user = g.staff_user
    if mfa.enabled(user):
        left = staff_store.count_recovery_codes(get_store(), user.id)
        return render_template("staff/mfa_setup.html", enabled=True, left=left)
    return render_template("staff/mfa_setup.html", enabled=False, enrol=mfa.enrolment(user), required=mfa.required())


@bp.post("/account/two-step")
@requires("list")
def confirm():
    user = g.staff_user
    try:
        codes = mfa.confirm(user.id, request.form.get("code", "")[:64])
    except AuthError as exc:
        page = render_template("staff/mfa_setup.html", enabled=mfa.enabled(user), enrol=mfa.enrolment(user),
                               required=mfa.required(), error=str(exc), left=0)
        return page, 422
    return render_template("staff/mfa_codes.html", codes=codes, first=True)


@bp.post("/account/two-step/recovery-codes")
@requires("list")
def recovery_codes():
    try:
        codes = mfa.new_recovery_codes(g.staff_user.id)
    except AuthError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".setup"))
    # Shown in this response only, never flashed: flashes travel in the session cookie.
    return render_template("staff/mfa_codes.html", codes=codes, first=False)


@bp.post("/admin/users/<int:user_id>/reset-two-step")
@requires("manage_users")
def reset(user_id: int):
    try:
        user = mfa.reset(user_id, g.staff_user)
    except AuthError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Two-step sign-in is reset for {user.email}. They were signed out, and set it up again at their next "
              "sign-in" + (" (this clinic requires it)." if mfa.required() else " if they choose to."), "success")
    return redirect(url_for("staff.admin.users"))


@bp.post("/admin/require-two-step")
@requires("manage_users")
def require():
    on = request.form.get("required") == "1"
    mfa.set_required(on, g.staff_user)
    flash("Every account now needs two-step sign-in; people without it set it up at their next page."
          if on else "Two-step sign-in is now optional.", "success")
    return redirect(url_for("staff.admin.users"))
