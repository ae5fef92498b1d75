"""The seal: the SHA-256 of a submission's canonical answers, on its PDF, in its row and in the audit trail.

At submit the hash is stored with the answers and, in the same transaction,
in a "submitted" audit event (hash-chained). Every PDF prints the hash of the
answers it shows, and carries it in its metadata. `flask --app app
verify-submission REF` recomputes the hash from the stored answers and
compares it with all three, so an answer edited behind the app's back shows.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from . import answers as answers_mod
from .db import get_store
from .store import Store, pdfs, submissions
from .store import audit as audit_store

SHORT = 12
SUBMIT_ACTION = "submitted"
KEYWORD = re.compile(r"intake-seal sha256=([0-9a-f]{64}) questionnaire=(\S+)")


def seal(submission: Any) -> dict[str, Any]:
    """What the PDF prints: the hash of the answers it shows, and whether it is the hash sealed at submit."""
    digest = answers_mod.sha256(submission.answers or {})
    return {"sha256": digest, "short": digest[:SHORT], "intact": digest == submission.answers_sha256,
            "questionnaire_version": submission.questionnaire_version,
            "keywords": f"intake-seal sha256={digest} questionnaire={submission.questionnaire_version}"}


def stored_pdf(store: Store, submission: Any) -> bytes | None:
    """The bytes of the submission's latest stored PDF (in the database, decrypted), or None."""
    return pdfs.latest_content(store, submission.id)


def pdf_seal(data: bytes) -> tuple[str, str] | None:
    """(sha256, questionnaire version) from a PDF's metadata, or None if it carries no seal."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        info = PdfReader(io.BytesIO(data)).metadata or {}
    except (PyPdfError, ValueError, OSError):
        return None  # not a PDF we can read: it proves nothing
    found = KEYWORD.search(str(info.get("/Keywords", "")))
    return (found.group(1), found.group(2)) if found else None


@dataclass
class Check:
    what: str
    ok: bool | None  # None: nothing to compare with
    detail: str


@dataclass
class Report:
    reference: str
    digest: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok is not False for c in self.checks)


def _audit_check(store: Store, submission: Any, digest: str) -> Check:
    events = [e for e in audit_store.for_submission(store, submission.id) if e.action == SUBMIT_ACTION]
    if not events:
        return Check("audit trail", None, "no “submitted” event (made before submits were audited, or by demo-data)")
    event = events[-1]
    recorded = (event.detail or {}).get("answers_sha256", "")
    if audit_store.row_hash(event) != event.hash:
        return Check("audit trail", False, f"event #{event.id} was edited: its contents do not match its chain hash")
    if recorded != digest:
        return Check("audit trail", False, f"DIFFERS: event #{event.id} sealed {recorded}")
    return Check("audit trail", True, f"matches event #{event.id} of {event.at:%Y-%m-%d %H:%M} UTC")


def verify(store: Store, submission: Any) -> Report:
    """Recompute the answers' hash and compare it with the row, the audit trail and the stored PDF."""
    digest = answers_mod.sha256(submission.answers or {})
    report = Report(submission.reference, digest)
    stored = submission.answers_sha256
    report.checks.append(Check("stored hash", stored == digest, "matches" if stored == digest else f"DIFFERS: {stored}"))
    report.checks.append(_audit_check(store, submission, digest))
    data = stored_pdf(store, submission)
    if data is None:
        report.checks.append(Check("stored PDF", None, "none stored yet (flask --app app render-pdf REF makes one)"))
    elif (printed := pdf_seal(data)) is None:
        report.checks.append(Check("stored PDF", False, "carries no seal (made before PDFs were sealed: make a fresh one)"))
    else:
        same = printed[0] == digest
        report.checks.append(Check("stored PDF", same, f"matches ({printed[0][:SHORT]}, questionnaire {printed[1]})"
                                   if same else f"DIFFERS: it shows answers sealed {printed[0]}"))
    return report


@click.command("verify-submission")
@with_appcontext
@click.argument("reference")
def verify_submission_command(reference: str) -> None:
    """Check that a submission's stored answers are exactly the ones the patient submitted."""
    from . import audit

    store = get_store()
    submission = submissions.get_by_reference(store, reference) or submissions.get(store, reference)
    if submission is None:
        raise click.ClickException(f"No submission with reference or id {reference!r}.")
    report = verify(store, submission)
    audit.record("submission_verified", submission_id=submission.id, detail={"ok": report.ok})
    click.echo(f"Submission {submission.reference}, questionnaire {submission.questionnaire_version}")
    click.echo(f"  answers now   sha256 {report.digest}")
    for check in report.checks:
        mark = {True: "ok  ", False: "FAIL", None: "--  "}[check.ok]
        click.echo(f"  {mark} {check.what:13} {check.detail}")
    if not report.ok:
        raise click.ClickException("the stored answers do NOT match their seal: they were changed after submission, "
                                   "or the seal was. Keep this output and tell your data protection lead.")
    click.echo("Sealed: the stored answers are the ones the patient submitted.")


def init_app(app: Flask) -> None:
    app.cli.add_command(verify_submission_command)
