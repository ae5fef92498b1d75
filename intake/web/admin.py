"""Administrators: staff accounts and the audit trail."""

from __future__ import annotations

import math

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from .. import accounts, audit, auth
from ..auth import AuthError, requires
from ..db import get_store
from ..mfa import service as mfa
from ..models import utcnow
from ..store import audit as audit_store
from ..store import staff as staff_store

bp = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PAGE = 50


def _users_page(*, error: str = "", status: int = 200, created: tuple[str, str] | None = None, values=None):
    return render_template(
        "staff/users.html", users=staff_store.list_users(get_store()), error=error, created=created,
        values=values or {}, min_length=auth.MIN_PASSWORD, now=utcnow(), mfa_required=mfa.required(),
    ), status


@bp.get("/users")
@requires("manage_users")
def users():
    return _users_page()


@bp.post("/users")
@requires("manage_users")
def add_user():
    email, role, password = request.form.get("email", ""), request.form.get("role", ""), request.form.get("password", "")
    one_time = "" if password else accounts.temporary_password()
    try:
        user = accounts.create_user(email, role, password or one_time, must_change=bool(one_time))
    except AuthError as exc:
        return _users_page(error=str(exc), status=422, values=request.form)
    if one_time:
        # Shown in this response only, never flashed: flashes travel in the session cookie.
        return _users_page(created=(user.email, one_time))
    flash(f"Added {user.email} as {auth.ROLES[user.role].lower()}.", "success")
    return redirect(url_for(".users"))


@bp.post("/users/<int:user_id>/active")
@requires("manage_users")
def set_active(user_id: int):
    active = request.form.get("active") == "1"
    try:
        user = accounts.set_active(user_id, active, g.staff_user)
    except AuthError as exc:
        flash(str(exc), "error")
    else:
        flash(f"{user.email} can sign in again." if active else f"{user.email} is deactivated and signed out everywhere.",
              "success")
    return redirect(url_for(".users"))


@bp.post("/users/<int:user_id>/role")
@requires("manage_users")
def set_role(user_id: int):
    try:
        user = accounts.set_role(user_id, request.form.get("role", ""), g.staff_user)
    except AuthError as exc:
        flash(str(exc), "error")
    else:
        flash(f"{user.email} is now {auth.ROLES[user.role].lower()}.", "success")
    return redirect(url_for(".users"))


@bp.post("/users/<int:user_id>/reset-password")
@requires("manage_users")
def reset_password(user_id: int):
    try:
        user, password = accounts.reset_password(user_id, g.staff_user)
    except AuthError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".users"))
    return render_template("staff/password_reset.html", user=user, password=password)


def _audit_page(verification: audit.Verification | None = None):
    action = request.values.get("action", "")
    action = action if action in audit.ACTIONS else ""
    try:
        page = max(1, int(request.values.get("page", 1)))
    except ValueError:
        page = 1
    events, total = audit_store.page(get_store(), limit=AUDIT_PAGE, offset=(page - 1) * AUDIT_PAGE, action=action or None)
    return render_template("staff/audit.html", events=events, total=total, page=page, action=action,
                           pages=max(1, math.ceil(total / AUDIT_PAGE)), actions=audit.ACTIONS, verification=verification)


@bp.get("/audit")
@requires("audit")
def audit_trail():
    return _audit_page()


@bp.post("/audit/verify")
@requires("audit")
def verify_audit():
    result = audit.verify(get_store())
    audit.record("audit_verified", detail={"rows": result.count, "intact": result.ok})
    return _audit_page(result)
