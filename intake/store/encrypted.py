"""Encrypted tables, by the key that sealed their rows: counts, and re-sealing in batches.

A row is stale when its key_id is NULL (stored before encryption) or not the active key, or when any
of its sealed values names another key in its own header. The header check means a key is never
retired on the word of key_id alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import LargeBinary, func, inspect, literal, or_, select, type_coerce
from sqlalchemy.orm import undefer
from sqlalchemy.orm.attributes import flag_modified

from ..crypto.blob import header
from ..crypto.types import encrypted_attributes
from ..models import Base
from . import Store


def models() -> list[type]:
    """Every mapped class with a key_id column (the EncryptedRow tables), in a stable order."""
    found = [m.class_ for m in Base.registry.mappers if "key_id" in m.columns]
    return sorted(found, key=lambda cls: cls.__tablename__)


def _pk(model: type) -> Any:
    (column,) = inspect(model).primary_key
    return column


def _sealed_columns(model: type) -> list[Any]:
    mapper = inspect(model)
    return [mapper.columns[name] for name in encrypted_attributes(mapper)]


def stale(model: type, active: str) -> Any:
    """SQL: this row is not entirely sealed with the key `active`."""
    prefix = header(active)
    clauses = [model.key_id.is_(None), model.key_id != active]
    for column in _sealed_columns(model):
        raw = type_coerce(column, LargeBinary)
        clauses.append(func.coalesce(func.substr(raw, 1, len(prefix)), literal(prefix, LargeBinary))
                       != literal(prefix, LargeBinary))
    return or_(*clauses)


def count_stale(store: Store, model: type, active: str) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(model).where(stale(model, active)))


def counts_by_key(store: Store, model: type) -> dict[str | None, int]:
    with store.reading() as session:
        return dict(session.execute(select(model.key_id, func.count()).group_by(model.key_id)).all())


def reseal_batch(store: Store, model: type, active: str, after: Any, limit: int,
                 legacy_only: bool = False) -> tuple[int, Any]:
    """Re-seal up to `limit` stale rows after primary key `after`, in one transaction; return (count, last key).

    With legacy_only, only rows stored before encryption existed (key_id NULL) are sealed.

    The rows are locked while they are rewritten (FOR UPDATE on PostgreSQL; SQLite's write
    transaction holds the whole database), so a save in between cannot be overwritten with older values.
    """
    pk = _pk(model)
    which = model.key_id.is_(None) if legacy_only else stale(model, active)
    query = select(model).where(which).order_by(pk).limit(limit).with_for_update()
    if after is not None:
        query = query.where(pk > after)
    names = encrypted_attributes(inspect(model))
    # Load deferred encrypted columns too (a PDF's content, an export's part): they are what is re-sealed.
    query = query.options(*(undefer(getattr(model, name)) for name in names))
    with store.writing() as session:
        rows = list(session.scalars(query))
        for row in rows:
            for name in names:
                flag_modified(row, name)  # written back sealed with the active key; key_id follows (track_key_ids)
            row.key_id = active
        last = getattr(rows[-1], pk.key) if rows else after
    return len(rows), last
