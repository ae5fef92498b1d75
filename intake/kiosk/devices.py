"""Kiosk devices: a random token in an HttpOnly cookie, its SHA-256 in the database, revocable, audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import Response, current_app, g, request

from .. import audit, limits
from ..db import get_store
from ..models import KioskDevice, StaffUser, utcnow
from ..store import kiosks

COOKIE = "intake_kiosk"
COOKIE_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie; the device row decides until it is revoked
TOUCH_EVERY = dt.timedelta(minutes=5)
NAME_MAX = 80


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def current_device() -> KioskDevice | None:
    """The kiosk this request comes from, or None; looked up once per request."""
    if "kiosk_device" in g:
        return g.kiosk_device
    g.kiosk_device = None
    token = request.cookies.get(COOKIE, "")
    if not token or len(token) > 100:
        return None
    device = kiosks.by_token_hash(get_store(), _hash(token))
    if device is None or device.revoked_at is not None:
        return None
    now = utcnow()
    if now - device.last_seen_at > TOUCH_EVERY:
        kiosks.touch(get_store(), device.id, now)
    g.kiosk_device = device
    return device


def is_kiosk_request() -> bool:
    """True when the request comes from a signed-in, unrevoked kiosk."""
    try:
        return current_device() is not None
    except RuntimeError:  # outside a request
        return False


@limits.exempt_when
def patient_page_on_a_kiosk() -> bool:
    """A kiosk's patient pages are never rate limited: a busy waiting room is one address and one device.

    Staff sign-in on a kiosk (leaving kiosk mode) keeps its limit: the tablet sits in a public room.
    """
    return (request.blueprint or "").startswith("patient") and is_kiosk_request()


def start(name: str, actor: StaffUser) -> str:
    """Register this browser as a kiosk; return the token for its cookie (shown to no one)."""
    name = " ".join((name or "").split())[:NAME_MAX] or "Clinic tablet"
    token = secrets.token_urlsafe(32)
    with get_store().writing() as session:
        device = kiosks.add(session, _hash(token), name, actor.id)
        audit.record_in(session, "kiosk_started", detail={"device_id": device.id, "name": name})
    return token


def end(device_id: int, actor: StaffUser, how: str) -> KioskDevice | None:
    """Revoke a kiosk: `how` is "signed in" (a staff sign-in on the tablet) or "revoked" (an administrator)."""
    with get_store().writing() as session:
        device = kiosks.revoke(session, device_id)
        if device is not None:
            audit.record_in(session, "kiosk_ended", detail={"device_id": device.id, "name": device.name, "how": how},
                            actor_id=actor.id, actor_email=actor.email)
        return device


def set_cookie(response: Response, token: str) -> Response:
    response.set_cookie(COOKIE, token, max_age=COOKIE_AGE, path="/", httponly=True, samesite="Strict",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def clear_cookie(response: Response) -> Response:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict",
                           secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def end_on_sign_in(response: Response, user: StaffUser) -> None:
    """A staff sign-in on a kiosk ends kiosk mode there: that is how a kiosk is left."""
    device = current_device()
    if device is not None:
        end(device.id, user, "signed in")
        clear_cookie(response)
