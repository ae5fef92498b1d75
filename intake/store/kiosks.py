"""Kiosk devices: clinic tablets signed in to show the patient form only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import KioskDevice, StaffUser, utcnow
from . import Store


def add(session: Session, token_hash: str, name: str, created_by: int | None) -> KioskDevice:
    now = utcnow()
    device = KioskDevice(token_hash=token_hash, name=name, created_by=created_by, created_at=now, last_seen_at=now)
    session.add(device)
    session.flush()
    return device


def by_token_hash(store: Store, token_hash: str) -> KioskDevice | None:
    with store.reading() as session:
        return session.scalar(select(KioskDevice).where(KioskDevice.token_hash == token_hash))


def touch(store: Store, device_id: int, now: dt.datetime) -> None:
    with store.writing() as session:
        session.execute(update(KioskDevice).where(KioskDevice.id == device_id).values(last_seen_at=now))


def revoke(session: Session, device_id: int, now: dt.datetime | None = None) -> KioskDevice | None:
    """Revoke an active device; None if there is no such device or it was revoked already."""
    device = session.get(KioskDevice, device_id)
    if device is None or device.revoked_at is not None:
        return None
    device.revoked_at = now or utcnow()
    return device


def listing(store: Store, limit: int = 100) -> list[tuple[KioskDevice, str | None]]:
    """Devices, active first then newest, each with the email of who started it."""
    with store.reading() as session:
        rows = session.execute(
            select(KioskDevice, StaffUser.email).outerjoin(StaffUser, StaffUser.id == KioskDevice.created_by)
            .order_by(KioskDevice.revoked_at.is_not(None), KioskDevice.created_at.desc()).limit(limit)
        ).all()
        return [(row[0], row[1]) for row in rows]
