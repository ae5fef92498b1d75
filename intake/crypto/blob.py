"""The sealed-value format: one encrypted column value, self-describing and bound to its column.

    offset  size  field
    0       3     magic b"\\x00iC" (a NUL first: no JSON text, UTF-8 note or PDF starts with it,
                  so a legacy plaintext value is told apart from a sealed one)
    3       1     format version (1)
    4       1     n, the length of the key id
    5       n     key id (ASCII)
    5+n     12    nonce (random, never reused with the same key in practice: 2^-32 after 2^32 values)
    17+n    …     AES-256-GCM ciphertext followed by its 16-byte tag

The associated data is the header (magic, version, key id) plus the context "table.column": changing
the key id, the version, or moving a value into another column makes it fail to open. What is not bound
is the row: a person who can write to the database could swap two rows' values within one column.
For answers, answers_sha256 (stored in the clear) would then no longer match.
"""

from __future__ import annotations

import os
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"\x00iC"
VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16


class KeySource(Protocol):
    active_id: str

    def aead(self, key_id: str) -> AESGCM: ...


class SealError(ValueError):
    """A value that claims to be sealed but does not open: wrong column, edited, or truncated."""


def header(key_id: str) -> bytes:
    raw = key_id.encode("ascii")
    return MAGIC + bytes((VERSION, len(raw))) + raw


def _aad(head: bytes, context: str) -> bytes:
    return head + b"\x1f" + context.encode("utf-8")


def seal(keys: KeySource, plaintext: bytes, context: str) -> bytes:
    """Encrypt `plaintext` with the active key, bound to `context` ("table.column")."""
    head = header(keys.active_id)
    nonce = os.urandom(NONCE_BYTES)
    return head + nonce + keys.aead(keys.active_id).encrypt(nonce, plaintext, _aad(head, context))


def is_sealed(value: bytes) -> bool:
    return value[:3] == MAGIC


def key_id_of(value: bytes) -> str:
    """The id of the key a sealed value names (no decryption)."""
    if not is_sealed(value) or len(value) < 5:
        raise SealError("not a sealed value")
    if value[3] != VERSION:
        raise SealError(f"unknown sealed-value version {value[3]}")
    return value[5:5 + value[4]].decode("ascii")


def open_blob(keys: KeySource, value: bytes, context: str) -> bytes:
    """Decrypt a sealed value; raise SealError if it was not sealed for `context` or was altered."""
    key_id = key_id_of(value)
    start = 5 + value[4]
    head, nonce, body = value[:start], value[start:start + NONCE_BYTES], value[start + NONCE_BYTES:]
    if len(nonce) != NONCE_BYTES or len(body) < TAG_BYTES:
        raise SealError(f"sealed value for {context} is truncated")
    try:
        return keys.aead(key_id).decrypt(nonce, body, _aad(head, context))
    except InvalidTag:
        raise SealError(f"sealed value does not open as {context}: it belongs to another column, "
                        "or it was altered") from None
