"""Files the app writes: private (0600, whatever the umask), atomic, and sealed when they hold patient data.

Sealed file format (streamed, any size, constant memory):

    magic b"\\x00iF" | version 1 | n | key id (n bytes) | nonce prefix (7 bytes) | chunk size (4 bytes, big-endian)
    then chunks: AES-256-GCM(chunk), each chunk_size bytes of plaintext (the last one shorter, maybe empty)

Chunk i uses the nonce prefix ‖ i (4 bytes) ‖ last-flag (1 byte), and the header plus the context
("backup", "export", "pdf") as associated data. So chunks cannot be reordered, dropped or cut off at
the end, the key id cannot be edited, and a file sealed as one kind cannot be opened as another.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag

FILE_MAGIC = b"\x00iF"
VERSION = 1
CHUNK = 1 << 20
TAG = 16
PREFIX = 7


class SealedFileError(ValueError):
    """A sealed file that does not open: wrong kind, edited, truncated, or not sealed at all."""


# --- private files -------------------------------------------------------------------------------------------------

def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) as 0700, and tighten it if it exists."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def create_private(path: Path) -> None:
    """Make sure `path` exists as an empty or existing file with mode 0600 (e.g. before SQLite opens it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)


@contextmanager
def private_writer(path: Path) -> Iterator[IO[bytes]]:
    """Write `path` as 0600 through a temporary name: it appears whole, or not at all."""
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # umask can only remove bits from 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_private(path: Path, data: bytes) -> None:
    with private_writer(path) as handle:
        handle.write(data)


def clean_partials(folder: Path) -> int:
    """Remove temporary files left by a process killed mid-write; return how many."""
    removed = 0
    for partial in folder.glob(".*.partial"):
        partial.unlink(missing_ok=True)
        removed += 1
    return removed


# --- sealed files --------------------------------------------------------------------------------------------------

def _header(key_id: str, prefix: bytes, chunk: int) -> bytes:
    raw = key_id.encode("ascii")
    return FILE_MAGIC + bytes((VERSION, len(raw))) + raw + prefix + chunk.to_bytes(4, "big")


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


class SealedWriter(io.RawIOBase):
    """A write-only file object that seals what is written into `raw`, chunk by chunk."""

    def __init__(self, raw: IO[bytes], keys: Any, context: str, chunk: int = CHUNK) -> None:
        super().__init__()
        self._raw, self._chunk = raw, chunk
        self._aead = keys.aead(keys.active_id)
        prefix = os.urandom(PREFIX)
        self._prefix = prefix
        head = _header(keys.active_id, prefix, chunk)
        self._aad = head + b"\x1f" + context.encode("utf-8")
        self._buffer = bytearray()
        self._index = 0
        raw.write(head)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buffer += data
        # Keep at least one byte back: the final chunk must be written with the last flag, even if full.
        while len(self._buffer) > self._chunk:
            self._emit(bytes(self._buffer[:self._chunk]), last=False)
            del self._buffer[:self._chunk]
        return len(data)

    def _emit(self, plain: bytes, last: bool) -> None:
        self._raw.write(self._aead.encrypt(_nonce(self._prefix, self._index, last), plain, self._aad))
        self._index += 1

    def close(self) -> None:
        if not self.closed and not self._raw.closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
        super().close()


def read_header(handle: IO[bytes]) -> tuple[str, bytes, int, bytes]:
    """Read a sealed file's header: key id, nonce prefix, chunk size, and the raw header bytes."""
    start = handle.read(5)
    if len(start) < 5 or start[:3] != FILE_MAGIC:
        raise SealedFileError("not a sealed Intake file")
    if start[3] != VERSION:
        raise SealedFileError(f"unknown sealed file version {start[3]}")
    rest = handle.read(start[4] + PREFIX + 4)
    if len(rest) != start[4] + PREFIX + 4:
        raise SealedFileError("sealed file header is truncated")
    key_id = rest[:start[4]].decode("ascii")
    prefix = rest[start[4]:start[4] + PREFIX]
    return key_id, prefix, int.from_bytes(rest[-4:], "big"), start + rest


def file_key_id(path: Path) -> str | None:
    """The key id of a sealed file, or None if it is not one."""
    try:
        with open(path, "rb") as handle:
            return read_header(handle)[0]
    except (OSError, SealedFileError):
        return None


def iter_open(handle: IO[bytes], keys: Any, context: str) -> Iterator[bytes]:
    """Yield the plaintext of a sealed file chunk by chunk; raise SealedFileError on any tampering."""
    key_id, prefix, chunk, head = read_header(handle)
    if not 0 < chunk <= 64 * CHUNK:
        raise SealedFileError("sealed file header is damaged")
    aead, aad = keys.aead(key_id), head + b"\x1f" + context.encode("utf-8")
    index, block = 0, handle.read(chunk + TAG)
    while True:
        following = handle.read(chunk + TAG)
        last = not following
        try:
            yield aead.decrypt(_nonce(prefix, index, last), block, aad)
        except InvalidTag:
            raise SealedFileError(f"sealed file does not open as {context}: wrong kind of file, edited or "
                                  "truncated") from None
        if last:
            return
        index, block = index + 1, following


def read_sealed(path: Path, keys: Any, context: str) -> bytes:
    with open(path, "rb") as handle:
        return b"".join(iter_open(handle, keys, context))


@contextmanager
def sealed_writer(path: Path, keys: Any, context: str) -> Iterator[SealedWriter]:
    """Write a sealed file atomically with mode 0600."""
    with private_writer(path) as raw:
        writer = SealedWriter(raw, keys, context)
        yield writer
        writer.close()


def write_sealed(path: Path, data: bytes, keys: Any, context: str) -> None:
    with sealed_writer(path, keys, context) as writer:
        writer.write(data)


def reseal(path: Path, keys: Any, context: str) -> None:
    """Re-encrypt a sealed file with the active key, atomically (a kill leaves the old file whole)."""
    with open(path, "rb") as source, sealed_writer(path, keys, context) as target:
        for plain in iter_open(source, keys, context):
            target.write(plain)
