"""One-time recovery codes: shown once, stored as argon2id hashes, each accepted once."""

from __future__ import annotations

import secrets

from argon2.exceptions import InvalidHashError, VerificationError

from .. import auth

COUNT = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes; 12 characters give about 59 bits


def new_codes() -> list[str]:
    out = []
    for _ in range(COUNT):
        chars = "".join(secrets.choice(ALPHABET) for _ in range(12))
        out.append("-".join(chars[i:i + 4] for i in range(0, 12, 4)))
    return out


def normal(code: str) -> str:
    return "".join(c for c in (code or "").lower() if c in ALPHABET)


def hash_code(code: str) -> str:
    return auth.hasher().hash(normal(code))


def matches(code_hash: str, code: str) -> bool:
    try:
        return auth.hasher().verify(code_hash, normal(code))
    except (VerificationError, InvalidHashError):
        return False
