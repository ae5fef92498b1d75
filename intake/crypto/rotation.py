"""Key rotation: re-seal every row and file with the active key, in batches, safe to kill and resume.

- Each batch is its own transaction: a kill loses at most the batch in flight, whose rows are
  still whole under their old key. Old keys stay in the keyring until retire() finds nothing uses them.
- Files are re-sealed to a temporary name and renamed over the old one, so a kill leaves either.
- Running again resumes: stale rows are found by query (key_id and each value's own header), not by
  remembered progress.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..store import Store
from ..store import encrypted as rows
from . import files
from .keys import Keyring

# Sealed files live in these instance subfolders; the value is the context they are sealed for.
SEALED_FOLDERS = {"exports": "export", "backups": "backup"}
# Rows with an EncryptedBytes column (a stored PDF, an export chunk) can be large: fewer per batch.
LARGE_ROW_BATCH = 25


@dataclass
class Report:
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0

    @property
    def total(self) -> int:
        return sum(self.rows.values()) + self.files


def sealed_files(instance: Path) -> Iterator[tuple[Path, str]]:
    for folder, context in SEALED_FOLDERS.items():
        directory = instance / folder
        if directory.is_dir():
            for path in sorted(directory.iterdir()):
                if path.is_file() and not path.name.endswith(".partial"):
                    yield path, context


def stale_files(instance: Path, active: str) -> list[tuple[Path, str]]:
    return [(p, c) for p, c in sealed_files(instance) if (k := files.file_key_id(p)) is not None and k != active]


def pending(store: Store, keyring: Keyring, instance: Path) -> Report:
    """What is not yet sealed with the active key."""
    report = Report(files=len(stale_files(instance, keyring.active_id)))
    for model in rows.models():
        report.rows[model.__tablename__] = rows.count_stale(store, model, keyring.active_id)
    return report


def reseal(store: Store, keyring: Keyring, instance: Path, *, batch: int = 500, pause: float = 0.0,
           tick: Callable[[int], None] = lambda n: None) -> Report:
    """Re-seal every stale row and file with the active key; return what was done."""
    done = Report()
    for path in instance.iterdir():
        if path.is_dir() and path.name in SEALED_FOLDERS:
            files.clean_partials(path)
    # A server that has not yet noticed the new key may still write a row under the old one:
    # go round again until a whole pass finds nothing.
    for _ in range(5):
        found = 0
        for model in rows.models():
            after = None
            limit = min(batch, LARGE_ROW_BATCH) if _has_bytes(model) else batch
            while True:
                count, after = rows.reseal_batch(store, model, keyring.active_id, after, limit)
                if not count:
                    break
                found += count
                done.rows[model.__tablename__] = done.rows.get(model.__tablename__, 0) + count
                tick(count)
                if pause:
                    time.sleep(pause)
        for path, context in stale_files(instance, keyring.active_id):
            files.reseal(path, keyring, context)
            found += 1
            done.files += 1
            tick(1)
        if not found:
            break
    return done


def seal_legacy(store: Store, keyring: Keyring, instance: Path, batch: int = 500) -> Report:
    """Seal what was stored before encryption existed: rows whose key_id is NULL, and plaintext files."""
    done = Report()
    for model in rows.models():
        after = None
        while True:
            count, after = rows.reseal_batch(store, model, keyring.active_id, after, batch, legacy_only=True)
            if not count:
                break
            done.rows[model.__tablename__] = done.rows.get(model.__tablename__, 0) + count
    done.files = seal_legacy_files(keyring, instance)
    return done


def _has_bytes(model: type) -> bool:
    from .types import EncryptedBytes

    return any(isinstance(column.type, EncryptedBytes) for column in model.__table__.columns)


def retirable(store: Store, keyring: Keyring, instance: Path) -> list[str]:
    """Keys nothing uses any more; empty unless every row and file is on the active key."""
    if pending(store, keyring, instance).total:
        return []
    return [key_id for key_id in keyring.ids if key_id != keyring.active_id]


def files_by_key(instance: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path, _context in sealed_files(instance):
        key_id = files.file_key_id(path) or "(not sealed)"
        counts[key_id] = counts.get(key_id, 0) + 1
    return counts


def seal_legacy_files(keyring: Keyring, instance: Path) -> int:
    """Seal files written in the clear before encryption existed (e.g. cached PDFs); return how many."""
    sealed = 0
    for path, context in list(sealed_files(instance)):
        if files.file_key_id(path) is not None:
            continue
        target = path if path.name.endswith(".enc") else path.with_name(path.name + ".enc")
        files.write_sealed(target, path.read_bytes(), keyring, context)
        if target != path:
            path.unlink()
        sealed += 1
    return sealed
