"""Seal small secrets with a key that lives outside the database, so a copy of the database alone reveals nothing.

The key is derived from SECRET_KEY (the environment or the instance folder) with one label per use.
Two uses today: staff TOTP secrets (AES-GCM, bound to the account id) and the draft tickets on patient
pages (Fernet, which also carries the time the page was made). Changing SECRET_KEY voids both: staff
then sign in with a recovery code and enrol again, or an administrator resets their two-step sign-in.
Issue 9 part B (intake/crypto/) may replace the key source; callers only use seal/unseal/ticket.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

VERSION = "v1"


def _key(purpose: str) -> bytes:
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(secret, b"intake-seal:" + purpose.encode("ascii"), hashlib.sha256).digest()


def seal(purpose: str, text: str, *, bound_to: str = "") -> str:
    """Encrypt and authenticate `text`; `bound_to` (e.g. an account id) must match when it is opened."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(purpose)).encrypt(nonce, text.encode("utf-8"), bound_to.encode("utf-8"))
    return f"{VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"


def unseal(purpose: str, sealed: str | None, *, bound_to: str = "") -> str | None:
    """The text sealed by seal(), or None if it is missing, altered, or sealed under another key."""
    if not sealed or not sealed.startswith(VERSION + "."):
        return None
    try:
        raw = base64.urlsafe_b64decode(sealed[len(VERSION) + 1:].encode("ascii"))
        return AESGCM(_key(purpose)).decrypt(raw[:12], raw[12:], bound_to.encode("utf-8")).decode("utf-8")
    except (InvalidTag, ValueError):
        return None


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
