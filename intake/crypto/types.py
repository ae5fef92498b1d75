"""Column types that encrypt on the way in and decrypt on the way out, so Python code never sees a blob.

    answers: Mapped[dict] = mapped_column(EncryptedJSON("submissions.answers"))

The context names the column; it is bound into every value (blob.py). The app's keyring travels on
its engine's dialect (attach()), which SQLAlchemy hands to every bind and result processor: each app,
and each engine, has its own keys. ORM and Core statements alike (demo.py's bulk inserts) go through
these types.

A table with encrypted columns mixes in EncryptedRow: its key_id column names the key of every
sealed value in the row. An INSERT fills it with the active key id; an ORM UPDATE that rewrites one
encrypted column rewrites them all with the active key and moves key_id (track_key_ids), so a row is
never half on one key and half on another. A value stored before encryption existed (legacy
plaintext, key_id NULL) still reads; init-db and rotate-key seal it.

Encrypted columns cannot be compared in SQL (every seal uses a fresh nonce, so equal values differ):
only IS NULL / IS NOT NULL are allowed, anything else raises at statement-build time.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, LargeBinary, String, event, inspect
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from .blob import is_sealed, open_blob, seal
from .keys import Keyring, KeyringError

DIALECT_ATTRIBUTE = "intake_keyring"


def attach(engine: Engine, keyring: Keyring) -> None:
    """Give `engine` its keyring; a file keyring rereads a changed key file as each transaction begins."""
    setattr(engine.dialect, DIALECT_ATTRIBUTE, keyring)
    event.listen(engine, "begin", lambda _conn: keyring.refresh())


def keyring_of(dialect: Any) -> Keyring:
    keyring = getattr(dialect, DIALECT_ATTRIBUTE, None)
    if keyring is None:
        raise KeyringError("this engine has no data keys: create it through intake.db (init_app) or call "
                           "intake.crypto.attach(engine, keyring)")
    return keyring


class _Comparator(TypeDecorator.Comparator):
    def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
        null_test = op in (operators.is_, operators.is_not) or (
            op in (operators.eq, operators.ne) and len(other) == 1 and other[0] is None)
        if not null_test:
            raise TypeError(f"{self.type.context} is encrypted: it cannot be compared or searched in SQL")
        return super().operate(op, *other, **kwargs)


class _Encrypted(TypeDecorator):
    impl = LargeBinary
    cache_ok = True
    comparator_factory = _Comparator

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def encode(self, value: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        if value is None:
            return None
        return seal(keyring_of(dialect), self.encode(value), self.context)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):  # legacy plaintext in an SQLite TEXT cell
            value = value.encode("utf-8")
        value = bytes(value)
        if is_sealed(value):
            return self.decode(open_blob(keyring_of(dialect), value, self.context))
        return self.decode(value)  # legacy plaintext, stored before encryption; sealed by init-db / rotate-key

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        return self


class EncryptedJSON(_Encrypted):
    """A dict or list, stored as sealed compact UTF-8 JSON."""

    cache_ok = True  # SQLAlchemy asks each subclass; the context is part of the cache key

    def encode(self, value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def decode(self, data: bytes) -> Any:
        return json.loads(data)


class EncryptedText(_Encrypted):
    """A str, stored as sealed UTF-8."""

    cache_ok = True  # SQLAlchemy asks each subclass; the context is part of the cache key

    def encode(self, value: Any) -> bytes:
        return str(value).encode("utf-8")

    def decode(self, data: bytes) -> str:
        return data.decode("utf-8")


class EncryptedBytes(_Encrypted):
    """Bytes (PDFs, export chunks, files), stored sealed."""

    cache_ok = True  # SQLAlchemy asks each subclass; the context is part of the cache key

    def encode(self, value: Any) -> bytes:
        return bytes(value)

    def decode(self, data: bytes) -> bytes:
        return data


def active_key_id(context: Any) -> str:
    """Column default for key_id: the key the same statement seals with."""
    return keyring_of(context.dialect).active_id


class EncryptedRow:
    """Mixin for a table that holds encrypted columns: adds key_id, kept equal to the key of its values."""

    @declared_attr
    def key_id(cls) -> Mapped[str | None]:  # noqa: N805 - declared_attr receives the class
        # NULL only for rows written before encryption existed (migration 0004); init-db seals those.
        return mapped_column(String(32), default=active_key_id, nullable=True)


def encrypted_columns(table: Any) -> list[str]:
    """Names of the encrypted columns of a Table."""
    return [c.name for c in table.columns if isinstance(c.type, _Encrypted)]


def encrypted_attributes(mapper: Any) -> list[str]:
    return [prop.key for prop in mapper.column_attrs if any(isinstance(c.type, _Encrypted) for c in prop.columns)]


def _reseal_whole_row(mapper: Any, connection: Any, target: Any) -> None:
    names = encrypted_attributes(mapper)
    if not names:
        return
    state = inspect(target)
    if not any(state.attrs[name].history.has_changes() for name in names):
        return
    for name in names:
        if name not in state.dict:
            getattr(target, name)  # load it, so it can be written back under the active key
        flag_modified(target, name)
    target.key_id = keyring_of(connection.dialect).active_id


def track_key_ids(base: Any) -> None:
    """Keep every EncryptedRow's key_id in step with its values on ORM updates (call once, on the Base)."""
    if not event.contains(base, "before_update", _reseal_whole_row):
        event.listen(base, "before_update", _reseal_whole_row, propagate=True)
