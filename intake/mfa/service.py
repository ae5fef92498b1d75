"""Two-step sign-in as the rest of the app uses it: enrol, confirm, check a code, new recovery codes, reset, require.

Every change is audited in the same transaction as the change itself.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy.orm import Session

from .. import audit, auth
from ..auth import AuthError
from ..db import get_store
from ..models import StaffUser, utcnow
from ..store import settings as settings_store
from ..store import staff as staff_store
from . import recovery, totp

REQUIRE_KEY = "require_mfa"


def enabled(user: StaffUser | None) -> bool:
    return bool(user and user.mfa_enabled_at)


def required() -> bool:
    """Whether the clinic requires two-step sign-in for every account (admin users page)."""
    return bool(settings_store.get(get_store(), REQUIRE_KEY, False))


def set_required(on: bool, actor: StaffUser) -> None:
    with get_store().writing() as session:
        settings_store.put(session, REQUIRE_KEY, bool(on))
        audit.record_in(session, "mfa_required_changed", detail={"required": bool(on)})


def pending_secret(user_id: int) -> str:
    """The secret being enrolled: kept from the first visit to the set-up page until it is confirmed."""
    with get_store().writing() as session:
        user = session.get(StaffUser, user_id)
        if user.mfa_enabled_at is not None:
            raise AuthError("Two-step sign-in is already on for this account.")
        secret = user.mfa_secret
        if secret is None:
            secret = totp.new_secret()
            user.mfa_secret = secret
        return secret


def enrolment(user: StaffUser) -> dict[str, str]:
    """What the set-up page shows: the QR code and the same secret as text."""
    secret = pending_secret(user.id)
    link = totp.uri(secret, user.email, current_app.config["CLINIC_NAME"])
    return {"qr": totp.qr_data_uri(link), "secret": totp.formatted(secret)}


def confirm(user_id: int, code: str) -> list[str]:
    """Turn two-step sign-in on once the first code from the app is right; return the recovery codes to show once."""
    now = utcnow()
    codes = recovery.new_codes()
    with get_store().writing() as session:
        user = session.get(StaffUser, user_id)
        secret = user.mfa_secret
        if user.mfa_enabled_at is not None:
            raise AuthError("Two-step sign-in is already on for this account.")
        step = totp.matching_step(secret, code) if secret else None
        if step is None:
            raise AuthError("That code is not right. Check that the app shows this clinic and your email, "
                            "then type the 6 digits it shows now.")
        user.mfa_enabled_at, user.mfa_last_step = now, step
        staff_store.replace_recovery_codes(session, user.id, [recovery.hash_code(c) for c in codes], now)
        audit.record_in(session, "mfa_enrolled", actor_id=user.id, actor_email=user.email)
    return codes


def new_recovery_codes(user_id: int) -> list[str]:
    now = utcnow()
    codes = recovery.new_codes()
    with get_store().writing() as session:
        user = session.get(StaffUser, user_id)
        if user.mfa_enabled_at is None:
            raise AuthError("Turn on two-step sign-in first.")
        staff_store.replace_recovery_codes(session, user.id, [recovery.hash_code(c) for c in codes], now)
        audit.record_in(session, "mfa_recovery_regenerated", actor_id=user.id, actor_email=user.email)
    return codes


def reset(user_id: int, actor: StaffUser | None) -> StaffUser:
    """An administrator clears a person's two-step sign-in (lost phone): they enrol again at their next sign-in."""
    with get_store().writing() as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            raise AuthError("That account no longer exists. Reload the page.")
        user.mfa_secret = None
        user.mfa_enabled_at = user.mfa_last_step = None
        staff_store.replace_recovery_codes(session, user.id, [], utcnow())
        staff_store.revoke_user_sessions(session, user.id)
        audit.record_in(session, "mfa_reset", detail={"user_id": user.id, "email": user.email})
        return user


def check(session: Session, user: StaffUser, code: str, now: dt.datetime) -> tuple[str | None, str]:
    """Check a sign-in code inside the caller's transaction: ("totp" | "recovery", "") or (None, why it failed).

    A TOTP code is accepted once: a code for a time step at or before the last one accepted is a replay.
    """
    if totp.looks_like_code(code):
        secret = user.mfa_secret
        step = totp.matching_step(secret, code, now.timestamp()) if secret else None
        if step is None:
            return None, "code"
        if user.mfa_last_step is not None and step <= user.mfa_last_step:
            return None, "replayed code"
        user.mfa_last_step = step
        return "totp", ""
    for row in staff_store.unused_recovery_codes(session, user.id):
        if recovery.matches(row.code_hash, code):
            row.used_at = now
            return "recovery", ""
    return None, "recovery code"


def second_step(user_id: int, code: str) -> auth.LoginResult:
    """The code step of a two-step sign-in: a TOTP code (once only) or a recovery code; failures count."""
    with get_store().writing() as session:
        user = session.get(StaffUser, user_id)
        now = utcnow()
        if user is None or not user.active or user.mfa_enabled_at is None:
            return auth.LoginResult(error="Please sign in again.")
        if user.locked_until and user.locked_until > now:
            audit.record_in(session, "login_failed", detail={"reason": "locked"}, actor_id=user.id, actor_email=user.email)
            return auth.LoginResult(error=auth.locked_message(user.locked_until))
        method, why = check(session, user, code, now)
        if method is None:
            return auth.count_failure(session, user, now, why, auth.WRONG_CODE)
        if method == "recovery":
            audit.record_in(session, "mfa_recovery_used", actor_id=user.id, actor_email=user.email)
        return auth.start_session(session, user, now, method)
