"""Erase one submission: every row and file of it goes; an audit tombstone keeps its reference, its answers
hash, who erased it and why.

Tables and files that hold a submission's data register an Eraser here, so erasure reaches them too:

    retention.register(Eraser("appointments", rows=...))                             # issue 12
    retention.register(Eraser("photos", rows=..., files=...))                        # issue 13

`rows` runs inside the erasing transaction, before the submission row is deleted (so foreign keys
still resolve), and returns how many rows it deleted. `files` runs after the commit and returns how many
files it deleted. Both get an Erased (id, reference, answers hash, submitted_at, reason): never answers.

On SQLite, secure_delete zeroes the freed bytes and a checkpoint truncates the WAL, so the rows'
bytes are gone from the database file and its WAL. On PostgreSQL the rows are deleted; see the README
for what VACUUM does and does not guarantee.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from .. import audit
from ..store import Store, maintenance
from ..store import exports as exports_store
from ..store import photos as photos_store
from ..store import retention as retention_store

# Reasons an administrator may give; a short list, never free text (free text invites patient data).
REASONS = {
    "patient_request": "The patient asked for their data to be erased",
    "entered_in_error": "Entered in error, or a test",
    "duplicate": "A duplicate of another submission",
    "wrong_person": "Filled in about the wrong person",
}
RETENTION_REASON = "retention_period"  # used by the retention job only


@dataclass(frozen=True)
class Erased:
    id: str
    reference: str
    answers_sha256: str
    submitted_at: dt.datetime
    reason: str


@dataclass(frozen=True)
class Eraser:
    name: str
    rows: Callable[[Session, Erased], int] | None = None
    files: Callable[[Flask, Erased], int] | None = None


ERASERS: list[Eraser] = []


def register(eraser: Eraser) -> Eraser:
    """Add an eraser (once per name: a module imported twice does not register twice)."""
    if all(existing.name != eraser.name for existing in ERASERS):
        ERASERS.append(eraser)
    return eraser


def _stored_exports(app: Flask, erased: Erased) -> int:
    """Export files kept in the instance folder since the submission was made may hold it: they go too."""
    removed = 0
    since = erased.submitted_at.timestamp()
    for path in (Path(app.instance_path) / "exports").glob("*"):
        # A ".partial" file is an export still being written; its writer deletes it if it fails.
        if path.is_file() and not path.name.startswith(".") and path.stat().st_mtime >= since:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


register(Eraser("rendered PDFs", rows=lambda session, erased: retention_store.delete_rendered_pdfs(session, erased.id)))
register(Eraser("prepared exports", rows=lambda session, erased: exports_store.delete_made_since(session, erased.submitted_at)))
register(Eraser("stored export files", files=_stored_exports))
register(Eraser("photos", rows=lambda session, erased: photos_store.delete_for_submission(session, erased.id)))


def erase(app: Flask, store: Store, submission_id: str, reason: str, *, actor_id: int | None = None,
          actor_email: str | None = None) -> tuple[Erased, dict[str, int]] | None:
    """Erase a submission and record its tombstone, in one transaction; None if it does not exist."""
    if reason not in REASONS and reason != RETENTION_REASON:
        raise ValueError(f"unknown erasure reason {reason!r}")
    removed: dict[str, int] = {}
    with store.writing() as session:
        row = retention_store.facts(session, submission_id)
        if row is None:
            return None
        erased = Erased(row.id, row.reference, row.answers_sha256, row.submitted_at, reason)
        for eraser in ERASERS:
            if eraser.rows:
                removed[eraser.name] = eraser.rows(session, erased)
        retention_store.delete_submission(session, submission_id)
        audit.record_in(session, "submission_erased", submission_id=erased.id, actor_id=actor_id,
                        actor_email=actor_email, detail={"reference": erased.reference,
                                                         "answers_sha256": erased.answers_sha256, "reason": reason})
    for eraser in ERASERS:
        if eraser.files:
            removed[eraser.name] = eraser.files(app, erased)
    maintenance.checkpoint(store)
    return erased, removed
