"""Opaque, time-stamped tickets under a key derived from SECRET_KEY (one label per use).

The draft tickets on patient pages (Fernet, which also carries the time the page was made) use it.
They live minutes, so a changed SECRET_KEY only sends a patient to the start page. Data at rest (answers,
PDFs, TOTP secrets) is sealed with the data keys instead (intake.crypto), which rotate-key re-encrypts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

VERSION = "v1"


def _key(purpose: str) -> bytes:
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(secret, b"intake-seal:" + purpose.encode("ascii"), hashlib.sha256).digest()


def _fernet(purpose: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_key(purpose)))


def ticket(purpose: str, text: str) -> str:
    """An opaque, time-stamped token carrying `text` (Fernet)."""
    return _fernet(purpose).encrypt(text.encode("utf-8")).decode("ascii")


def open_ticket(purpose: str, token: str | None) -> tuple[str, int] | None:
    """(text, the Unix time it was made), or None if the ticket is not ours or was altered."""
    if not token or len(token) > 500:
        return None
    fernet = _fernet(purpose)
    try:
        data = token.encode("ascii")
        return fernet.decrypt(data).decode("utf-8"), fernet.extract_timestamp(data)
    except (InvalidToken, UnicodeError, ValueError):
        return None
