"""Staff accounts and their server-side sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..models import StaffSession, StaffUser, utcnow
from . import Store


def count_users(store: Store) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(StaffUser))


def count_active_admins(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(StaffUser).where(StaffUser.role == "admin", StaffUser.active.is_(True))
    )


def get_user(store: Store, user_id: int) -> StaffUser | None:
    with store.reading() as session:
        return session.get(StaffUser, user_id)


def by_email(session: Session, email: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.email == email))


def list_users(store: Store) -> list[StaffUser]:
    with store.reading() as session:
        return list(session.scalars(select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.email)))


def emails(store: Store, user_ids: set[int]) -> dict[int, str]:
    """Map user ids to emails, for showing who reviewed what."""
    if not user_ids:
        return {}
    with store.reading() as session:
        return dict(session.execute(select(StaffUser.id, StaffUser.email).where(StaffUser.id.in_(user_ids))).all())


def add_session(session: Session, session_hash: str, user_id: int, now: dt.datetime) -> None:
    session.add(StaffSession(id=session_hash, user_id=user_id, created_at=now, last_seen_at=now))


def get_session(store: Store, session_hash: str) -> tuple[StaffSession, StaffUser] | None:
    """Return the session and its user, revoked or not; the caller decides."""
    with store.reading() as session:
        row = session.execute(
            select(StaffSession, StaffUser).join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(StaffSession.id == session_hash)
        ).first()
        return (row[0], row[1]) if row else None


def touch_session(store: Store, session_hash: str, now: dt.datetime) -> None:
    with store.writing() as session:
        session.execute(update(StaffSession).where(StaffSession.id == session_hash).values(last_seen_at=now))


def revoke_session(session: Session, session_hash: str, now: dt.datetime | None = None) -> None:
    session.execute(
        update(StaffSession).where(StaffSession.id == session_hash, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )


def revoke_user_sessions(session: Session, user_id: int, now: dt.datetime | None = None) -> int:
    """Sign a user out everywhere (deactivation, password reset)."""
    return session.execute(
        update(StaffSession).where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    ).rowcount
