"""The audit trail: append one hash-chained row at a time, read it back in order.

Each row's hash covers the previous row's hash and every field of its own,
so an edited, inserted or deleted row breaks the chain from there on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ..models import AuditEvent, utcnow
from . import Store

GENESIS = "0" * 64


def chain_hash(prev_hash: str, at: dt.datetime, actor_id: int | None, actor_email: str | None, action: str,
               submission_id: str | None, ip: str | None, detail: dict[str, Any]) -> str:
    """Hash one row together with its predecessor's hash."""
    stamp = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    payload = [prev_hash, stamp, actor_id, actor_email, action, submission_id, ip, detail]
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def row_hash(event: AuditEvent) -> str:
    return chain_hash(event.prev_hash, event.at, event.actor_id, event.actor_email, event.action,
                      event.submission_id, event.ip, event.detail or {})


def append(session: Session, *, action: str, actor_id: int | None = None, actor_email: str | None = None,
           submission_id: str | None = None, ip: str | None = None, detail: dict[str, Any] | None = None) -> AuditEvent:
    """Add a row at the end of the chain, inside the caller's write transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # Writers queue here, so each reads the true last row (SQLite's BEGIN IMMEDIATE does the same).
        session.execute(text("LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE"))
    prev_hash = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
    at = utcnow()
    detail = detail or {}
    event = AuditEvent(
        at=at, actor_id=actor_id, actor_email=actor_email, action=action, submission_id=submission_id,
        ip=ip, detail=detail, prev_hash=prev_hash,
        hash=chain_hash(prev_hash, at, actor_id, actor_email, action, submission_id, ip, detail),
    )
    session.add(event)
    session.flush()
    return event


def iter_events(store: Store, batch: int = 1000) -> Iterator[AuditEvent]:
    """Yield every row in chain order, one short read per batch."""
    last_id = 0
    while True:
        with store.reading() as session:
            rows = list(session.scalars(
                select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
            ))
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def page(store: Store, *, limit: int, offset: int, action: str | None = None) -> tuple[list[AuditEvent], int]:
    """Newest first, for the admin page."""
    query = select(AuditEvent)
    counter = select(func.count()).select_from(AuditEvent)
    if action:
        query, counter = query.where(AuditEvent.action == action), counter.where(AuditEvent.action == action)
    with store.reading() as session:
        rows = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)))
        return rows, session.scalar(counter)


def for_submission(store: Store, submission_id: str, limit: int = 200) -> list[AuditEvent]:
    with store.reading() as session:
        return list(session.scalars(
            select(AuditEvent).where(AuditEvent.submission_id == submission_id)
            .order_by(AuditEvent.id.desc()).limit(limit)
        ))


def actions(store: Store) -> list[str]:
    with store.reading() as session:
        return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
