"""Staff sign-in: argon2id passwords, lockout, server-side sessions and role checks.

The browser holds only a random session id in an HttpOnly cookie scoped to
/staff; the database holds its SHA-256, so a leaked table opens no session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Response, abort, current_app, flash, g, redirect, request, url_for

from . import audit
from .db import get_store
from .models import StaffUser, utcnow
from .store import staff as staff_store

COOKIE = "intake_staff"
COOKIE_PATH = "/staff"
IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=12)
TOUCH_EVERY = dt.timedelta(seconds=30)  # refresh last_seen at most this often: one write per half minute, not per click
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
LOCK_FOR = dt.timedelta(minutes=15)
MIN_PASSWORD = 12
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

ROLES = {"staff": "Front desk", "physician": "Physician", "admin": "Administrator"}
# "export" is the front desk's contact list; "export_clinical" is every answer, FHIR and the PDFs (export.py).
PERMISSIONS = {
    "staff": frozenset({"list", "export"}),
    "physician": frozenset({"list", "export", "export_clinical", "open", "review"}),
    "admin": frozenset({"list", "export", "export_clinical", "open", "review", "manage_users", "audit", "erase",
                        "protection"}),
}
PUBLIC_ENDPOINTS = {"staff.login", "staff.mfa.code"}
ALWAYS_ALLOWED = {"staff.logout", "staff.change_password"}
MFA_SETUP = {"staff.mfa.setup", "staff.mfa.confirm"}


class AuthError(ValueError):
    """A request the person can fix; the message says how."""


@cache
def _hasher(cheap: bool) -> PasswordHasher:
    # Tests use the cheapest argon2id parameters; production uses the RFC 9106 defaults.
    return PasswordHasher.from_parameters(profiles.CHEAPEST) if cheap else PasswordHasher()


def hasher() -> PasswordHasher:
    return _hasher(bool(current_app.testing))


def hash_password(password: str) -> str:
    check_password(password)
    return hasher().hash(password)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"Passwords need at least {MIN_PASSWORD} characters.")
    if len(password) > 1024:
        raise AuthError("That password is too long.")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normal_email(email: str) -> str:
    return (email or "").strip().lower()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


@dataclass
class LoginResult:
    user: StaffUser | None = None
    token: str | None = None
    error: str = ""
    needs_code: bool = False  # the password was right; the session starts only after second_step()
    method: str = ""


def locked_message(until: dt.datetime) -> str:
    minutes = max(1, int((until - utcnow()).total_seconds() // 60) + 1)
    return (f"This account is locked for {minutes} more minute{'s' if minutes != 1 else ''} after "
            f"{MAX_FAILURES} failed sign-ins. Try again later, or ask an administrator to reset the password.")


WRONG = "That email and password do not match an account. Check both and try again."
WRONG_CODE = ("That code is not right, or it was already used. Type the 6 digits your app shows now, "
              "or one of your recovery codes.")


def count_failure(session, user: StaffUser, now: dt.datetime, reason: str, message: str) -> LoginResult:
    """Count a failed password or code toward the lockout, audit it, and say what to do."""
    if user.first_failed_at is None or now - user.first_failed_at > FAILURE_WINDOW:
        user.failed_logins, user.first_failed_at = 1, now
    else:
        user.failed_logins += 1
    locked = user.failed_logins >= MAX_FAILURES
    if locked:
        user.locked_until, user.failed_logins, user.first_failed_at = now + LOCK_FOR, 0, None
    audit.record_in(session, "login_failed", detail={"reason": reason, "locked": locked},
                    actor_id=user.id, actor_email=user.email)
    return LoginResult(error=locked_message(user.locked_until) if locked else message)


def start_session(session, user: StaffUser, now: dt.datetime, method: str = "") -> LoginResult:
    user.failed_logins, user.first_failed_at, user.locked_until, user.last_login_at = 0, None, None, now
    token = secrets.token_urlsafe(32)
    staff_store.add_session(session, token_hash(token), user.id, now)
    audit.record_in(session, "login", detail={"second_step": method} if method else None,
                    actor_id=user.id, actor_email=user.email)
    return LoginResult(user=user, token=token, method=method)


def login(email: str, password: str) -> LoginResult:
    """Check the password, count failures, lock after too many; on success start a fresh session.

    With two-step sign-in on, a right password only earns the code step (needs_code, then
    intake.mfa.service.second_step): no session yet,
    and the failure count is not reset, so codes cannot be guessed by signing in again and again.
    """
    email = normal_email(email)
    with get_store().writing() as session:
        user = staff_store.by_email(session, email)
        now = utcnow()
        if user is None:
            _verify(_dummy_hash(), password)  # take as long as a real check: no account probing by timing
            audit.record_in(session, "login_failed", detail={"reason": "unknown account"})
            return LoginResult(error=WRONG)
        who = {"actor_id": user.id, "actor_email": user.email}
        if user.locked_until and user.locked_until > now:
            audit.record_in(session, "login_failed", detail={"reason": "locked"}, **who)
            return LoginResult(error=locked_message(user.locked_until))
        if not _verify(user.password_hash, password):
            return count_failure(session, user, now, "password", WRONG)
        if not user.active:
            audit.record_in(session, "login_failed", detail={"reason": "deactivated"}, **who)
            return LoginResult(error="This account has been deactivated. Ask an administrator if you need access again.")
        if hasher().check_needs_rehash(user.password_hash):
            user.password_hash = hasher().hash(password)
        if user.mfa_enabled_at is not None:
            audit.record_in(session, "mfa_challenge", **who)
            return LoginResult(user=user, needs_code=True)
        return start_session(session, user, now)


@cache
def _dummy_hash_for(cheap: bool) -> str:
    return _hasher(cheap).hash(secrets.token_hex(16))


def _dummy_hash() -> str:
    return _dummy_hash_for(bool(current_app.testing))


def set_cookie(response: Response, token: str) -> Response:
    response.set_cookie(COOKIE, token, path=COOKIE_PATH, httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def clear_cookie(response: Response) -> Response:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="Lax",
                           secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def logout() -> None:
    """Revoke the session on the server: the cookie is worthless from now on, even if copied."""
    session_hash, user = g.get("staff_session"), g.get("staff_user")
    if not session_hash:
        return
    with get_store().writing() as session:
        staff_store.revoke_session(session, session_hash)
        audit.record_in(session, "logout", actor_id=user.id, actor_email=user.email)


def current_user() -> StaffUser | None:
    """Load the signed-in user from the cookie, once per request; expire idle sessions."""
    if "staff_user" in g:
        return g.staff_user
    g.staff_user = g.staff_session = None
    token = request.cookies.get(COOKIE, "")
    if not token or len(token) > 100:
        return None
    store = get_store()
    found = staff_store.get_session(store, token_hash(token))
    if found is None:
        return None
    row, user = found
    now = utcnow()
    if row.revoked_at is not None or not user.active:
        return None
    if now - row.last_seen_at > IDLE or now - row.created_at > ABSOLUTE:
        with store.writing() as session:
            staff_store.revoke_session(session, row.id, now)
            audit.record_in(session, "session_expired", actor_id=user.id, actor_email=user.email)
        g.staff_expired = True
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        staff_store.touch_session(store, row.id, now)
    g.staff_user, g.staff_session = user, row.id
    return user


def can(permission: str, user: StaffUser | None = None) -> bool:
    user = user or g.get("staff_user")
    return bool(user) and permission in PERMISSIONS.get(user.role, ())


def requires(permission: str) -> Callable:
    """Mark a view with the permission it needs; guard() enforces it (and refuses unmarked views)."""
    def mark(view: Callable) -> Callable:
        view.permission = permission
        return view
    return mark


def guard():
    """before_request for every staff blueprint: sign-in first, then the view's permission."""
    from . import kiosk
    from .mfa import service as mfa

    endpoint = request.endpoint or ""
    if kiosk.current_device() is not None and endpoint not in PUBLIC_ENDPOINTS:
        # A kiosk shows the patient form only; signing in here (a staff member) ends kiosk mode.
        return redirect(url_for("patient.start"))
    user = current_user()
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    if user is None:
        if g.get("staff_expired"):
            flash(f"You were signed out after {int(IDLE.total_seconds() // 60)} minutes without activity. "
                  "Please sign in again.", "warning")
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("staff.login", next=target))
    if user.must_change_password and endpoint not in ALWAYS_ALLOWED:
        flash("Please choose a new password before you go on.", "warning")
        return redirect(url_for("staff.change_password"))
    if endpoint not in ALWAYS_ALLOWED | MFA_SETUP and not mfa.enabled(user) and mfa.required():
        flash("This clinic requires two-step sign-in. Set it up now: it takes a minute, with an app on your phone.",
              "warning")
        return redirect(url_for("staff.mfa.setup"))
    view = current_app.view_functions.get(endpoint)
    permission = getattr(view, "permission", None)
    # Deny by default: a staff view without a declared permission is refused to everyone.
    if permission is None or not can(permission, user):
        abort(403)
    return None


def safe_next(target: str | None) -> str:
    """Only ever send a person back inside the staff workspace."""
    if target and target.startswith("/staff/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("staff.dashboard")
