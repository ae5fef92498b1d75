"""Clinic-wide settings that administrators change in the app, one row per key."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..models import Setting, utcnow
from . import Store


def get(store: Store, key: str, default: Any = None) -> Any:
    with store.reading() as session:
        row = session.get(Setting, key)
        return default if row is None else row.value


def put(session: Session, key: str, value: Any) -> Any:
    """Set `key` inside the caller's transaction; return the value it had."""
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value, updated_at=utcnow()))
        return None
    old, row.value, row.updated_at = row.value, value, utcnow()
    return old
