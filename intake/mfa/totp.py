"""TOTP codes: a fresh secret, the otpauth:// URI as a QR code, and checking a code once and only once."""

from __future__ import annotations

import hmac
import re
import time

import pyotp
import segno

STEP = 30  # seconds per code, as every authenticator app expects
DRIFT = 1  # accept the code before and after the current one: phone clocks drift
DIGITS = re.compile(r"^\d{6}$")


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data: URI (the CSP allows img-src data:); nothing leaves the server."""
    return segno.make(text, error="m").svg_data_uri(scale=5, border=4, dark="#1d2733")


def normal(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "")


def looks_like_code(code: str) -> bool:
    return bool(DIGITS.match(normal(code)))


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code this is (within the allowed drift), or None."""
    code = normal(code)
    if not DIGITS.match(code):
        return None
    totp = pyotp.TOTP(secret, interval=STEP)
    current = int((time.time() if now is None else now) // STEP)
    found = None
    for step in range(current - DRIFT, current + DRIFT + 1):
        # Compare every candidate, so the time taken does not say which one matched.
        if hmac.compare_digest(totp.at(step * STEP), code):
            found = step
    return found


def formatted(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
