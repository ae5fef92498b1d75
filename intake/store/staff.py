"""Staff accounts and their server-side sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ..models import RecoveryCode, StaffSession, StaffUser, utcnow
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


# --- two-step sign-in (intake.mfa) ---------------------------------------------------------------------------------
# The TOTP secret is StaffUser.mfa_secret, an encrypted column (intake.crypto): read and set it as an attribute.

def unused_recovery_codes(session: Session, user_id: int) -> list[RecoveryCode]:
    return list(session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))))


def count_recovery_codes(store: Store, user_id: int) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(RecoveryCode)
                              .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)))


def replace_recovery_codes(session: Session, user_id: int, hashes: list[str], now: dt.datetime) -> None:
    """Void every code the user had and store the new ones (hashes only)."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    session.add_all(RecoveryCode(user_id=user_id, code_hash=h, created_at=now) for h in hashes)
