"""Drafts: answers saved page by page, reachable by a resume token."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ..models import Draft, utcnow
from . import Store

TOKEN_BYTES = 32  # 256 random bits; the brief asks for at least 128.
LIFETIME = dt.timedelta(days=7)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def create(store: Store, page: str, language: str = "en", *, answers: dict | None = None,
           audit: Callable[[Session, Draft], None] | None = None) -> tuple[str, Draft]:
    """Start a draft; return its resume token (shown once, never stored) and the row.

    `answers` prefills it (an invitation, a returning patient's history); `audit(session, draft)` records
    how it was started in the same transaction.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    draft = Draft(
        token_hash=hash_token(token), submit_token=secrets.token_urlsafe(24), answers=answers or {},
        page=page, language=language, created_at=now, updated_at=now, expires_at=now + LIFETIME,
    )
    with store.writing() as session:
        session.add(draft)
        if audit is not None:
            session.flush()  # the draft's id, for the audit event
            audit(session, draft)
    return token, draft


def get(store: Store, token: str | None) -> Draft | None:
    """Return the unexpired draft for `token`, or None."""
    if not token or len(token) > 100:
        return None
    with store.reading() as session:
        return session.scalar(
            select(Draft).where(Draft.token_hash == hash_token(token), Draft.expires_at > utcnow())
        )


def save(store: Store, token: str, answers: dict, page: str, language: str | None = None) -> Draft | None:
    """Replace the draft's answers and page; each save keeps it alive for another LIFETIME."""
    with store.writing() as session:
        draft = session.scalar(
            select(Draft).where(Draft.token_hash == hash_token(token), Draft.expires_at > utcnow())
        )
        if draft is None:
            return None
        now = utcnow()
        draft.answers = dict(answers)
        draft.page = page
        if language:
            draft.language = language
        draft.updated_at = now
        draft.expires_at = now + LIFETIME
        return draft


def purge_expired(store: Store) -> int:
    """Delete expired drafts; return how many."""
    from .photos import delete_for_expired_drafts

    with store.writing() as session:
        delete_for_expired_drafts(session)  # their photos first (issue 13)
        return session.execute(delete(Draft).where(Draft.expires_at <= utcnow())).rowcount


def in_progress(store: Store, limit: int = 50) -> list[Draft]:
    """Return unexpired drafts, most recently touched first."""
    with store.reading() as session:
        return list(session.scalars(
            select(Draft).where(Draft.expires_at > utcnow()).order_by(Draft.updated_at.desc()).limit(limit)
        ))


def count_in_progress(store: Store) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(Draft).where(Draft.expires_at > utcnow()))


def get_by_id(store: Store, draft_id: int) -> Draft | None:
    with store.reading() as session:
        return session.scalar(select(Draft).where(Draft.id == draft_id, Draft.expires_at > utcnow()))


def count_unlock_failure(store: Store, token: str) -> int:
    """Count one wrong date of birth typed to reopen the draft on a shared device; return the count so far."""
    with store.writing() as session:
        draft = session.scalar(select(Draft).where(Draft.token_hash == hash_token(token)))
        if draft is None:
            return 0
        draft.unlock_failures = (draft.unlock_failures or 0) + 1
        return draft.unlock_failures


def reset_unlock_failures(store: Store, token: str) -> None:
    with store.writing() as session:
        session.execute(update(Draft).where(Draft.token_hash == hash_token(token)).values(unlock_failures=0))


def issue_mail_token(store: Store, draft_id: int) -> str | None:
    """A second link for the draft, to e-mail: the browser working on it keeps its token until this one is opened.

    Issuing again replaces the previous e-mailed link. None if the draft is gone or expired.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with store.writing() as session:
        found = session.execute(update(Draft).where(Draft.id == draft_id, Draft.expires_at > utcnow())
                                .values(mail_token_hash=hash_token(token))).rowcount
    return token if found else None


def take_mail_token(store: Store, token: str | None) -> bool:
    """The e-mailed link was opened: it becomes the draft's resume token (any other browser's stops working)."""
    if not token or len(token) > 100:
        return False
    token_hash = hash_token(token)
    with store.writing() as session:
        return bool(session.execute(
            update(Draft).where(Draft.mail_token_hash == token_hash, Draft.expires_at > utcnow())
            .values(token_hash=token_hash, mail_token_hash=None, unlock_failures=0)).rowcount)


def reissue_token(store: Store, draft_id: int) -> str | None:
    """Give the draft a new resume token (the old one stops working); for links sent by e-mail (issue 12)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with store.writing() as session:
        found = session.execute(update(Draft).where(Draft.id == draft_id, Draft.expires_at > utcnow())
                                .values(token_hash=hash_token(token), unlock_failures=0)).rowcount
    return token if found else None
