"""A returning patient's new draft, created with its carried-forward answers and the audit event in one transaction."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from sqlalchemy.orm import Session

from ..models import Draft, utcnow
from . import Store
from .drafts import LIFETIME, TOKEN_BYTES, hash_token


def create_draft(store: Store, *, page: str, language: str, answers: dict,
                 audit: Callable[[Session, Draft], None]) -> tuple[str, Draft]:
    """Start a draft holding `answers`; `audit(session, draft)` records the copy in the same transaction."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    draft = Draft(
        token_hash=hash_token(token), submit_token=secrets.token_urlsafe(24), answers=answers,
        page=page, language=language, created_at=now, updated_at=now, expires_at=now + LIFETIME,
    )
    with store.writing() as session:
        session.add(draft)
        session.flush()  # the draft's id, for the audit event
        audit(session, draft)
    return token, draft
