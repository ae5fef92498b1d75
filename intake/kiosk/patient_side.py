"""The patient's side of a kiosk: an idle clock kept by the server, and a reset that forgets the patient."""

from __future__ import annotations

from flask import current_app, session

from ..web import draft_access
from .devices import current_device

PATIENT_KEYS = ("draft", "submitted", "lang")


def idle_seconds() -> int:
    return int(current_app.config.get("KIOSK_IDLE_SECONDS", 180))


def warning_seconds() -> int:
    return min(int(current_app.config.get("KIOSK_WARNING_SECONDS", 30)), max(1, idle_seconds() - 1))


def has_patient() -> bool:
    """Whether this kiosk session holds anything of a patient (their form, their reference, their language)."""
    return any(key in session for key in PATIENT_KEYS)


def reset() -> None:
    """Forget the patient: session, draft reference, language. The draft stays on the server, reachable by its link.

    What is kept: the short hashes of forgotten drafts, so a stale page cannot reopen them.
    """
    draft_access.forget()
    forgotten = session.get("forgotten", [])
    session.clear()
    session["forgotten"] = forgotten
    session["kiosk_seen"] = draft_access.now()
    session.permanent = False


def enforce_idle() -> None:
    """before_request for patient pages: on a kiosk, a session idle for longer than the limit is reset.

    This is the server's own limit, for browsers without JavaScript; the page's script warns first.
    """
    if current_device() is None:
        return
    seen = session.get("kiosk_seen")
    if has_patient() and (not isinstance(seen, int) or draft_access.now() - seen > idle_seconds()):
        reset()
    session["kiosk_seen"] = draft_access.now()
