"""Who did what, when, from where: recorded for every access, verified on demand.

Rows never hold patient data: a submission is named by its id, and free
text (search terms, review notes) is never copied in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import click
from flask import Flask, g, has_request_context, request
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from .db import get_store
from .store import Store
from .store import audit as audit_store

# Every action the app records, with the words the admin page shows.
ACTIONS = {
    "login": "Signed in",
    "login_failed": "Failed sign-in",
    "logout": "Signed out",
    "session_expired": "Signed out after inactivity",
    "list_viewed": "Viewed the submission list",
    "submission_opened": "Opened a submission",
    "pdf_downloaded": "Downloaded a PDF",
    "photo_viewed": "Viewed a patient's photo",
    "pdf_rerender": "Asked for a fresh PDF",
    "export": "Exported submissions",
    "export_requested": "Asked for an export (prepared in the background)",
    "export_downloaded": "Downloaded a prepared export",
    "job_retried": "Ran a failed background job again",
    "review": "Marked reviewed",
    "user_created": "Added a staff account",
    "user_deactivated": "Deactivated a staff account",
    "user_activated": "Reactivated a staff account",
    "user_role_changed": "Changed a role",
    "password_reset": "Reset a password",
    "password_changed": "Changed own password",
    "audit_verified": "Verified the audit trail",
    "submission_erased": "Erased a submission",
    "retention_purge": "Purged submissions past the retention period",
    "drafts_purged": "Deleted expired drafts",
    "key_rotated": "Re-encrypted with a new data key",
    "key_retired": "Retired unused data keys",
    "file_decrypted": "Decrypted an export or backup file",
    "backup_made": "Made a backup",
    "backup_restored": "Restored a backup",
    "mfa_challenge": "Password accepted; asked for a sign-in code",
    "mfa_enrolled": "Turned on two-step sign-in",
    "mfa_recovery_used": "Signed in with a recovery code",
    "mfa_recovery_regenerated": "Made new recovery codes",
    "mfa_reset": "Reset someone's two-step sign-in",
    "mfa_required_changed": "Changed whether two-step sign-in is required",
    "kiosk_started": "Signed a device in as a kiosk",
    "kiosk_ended": "Ended kiosk mode on a device",
    "submitted": "Patient submitted the form",
    "submission_verified": "Verified a submission's seal",
    "history_carried": "Carried a returning patient's earlier answers into a new form (staff invitation)",
    "appointments_viewed": "Viewed the appointments",
    "appointment_added": "Added an appointment",
    "appointment_opened": "Opened an appointment to change it",
    "appointment_changed": "Changed an appointment",
    "appointment_cancelled": "Cancelled an appointment",
    "appointment_restored": "Restored a cancelled appointment",
    "appointments_import_previewed": "Previewed an appointment import",
    "appointments_imported": "Imported appointments",
    "invitation_queued": "Sent an invitation",
    "cancellation_queued": "E-mailed a patient that the visit is cancelled",
    "invitation_link_shown": "Showed an invitation link or QR code",
    "appointments_purged": "Deleted appointments that never got a form, past their keeping time",
}


def _who() -> tuple[int | None, str | None, str | None]:
    if not has_request_context():
        return None, "cli", None
    user = g.get("staff_user")
    return (user.id if user else None), (user.email if user else None), request.remote_addr


def record_in(session: Session, action: str, *, submission_id: str | None = None, detail: dict[str, Any] | None = None,
              actor_id: int | None = None, actor_email: str | None = None) -> None:
    """Append an event inside the caller's transaction, so the change and its record commit together."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    who_id, who_email, ip = _who()
    audit_store.append(
        session, action=action, submission_id=submission_id, detail=detail, ip=ip,
        actor_id=actor_id if actor_id is not None else who_id, actor_email=actor_email or who_email,
    )


def record(action: str, **kwargs: Any) -> None:
    """Append an event in a transaction of its own."""
    with get_store().writing() as session:
        record_in(session, action, **kwargs)


@dataclass
class Verification:
    count: int = 0
    head: str = audit_store.GENESIS
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: Store) -> Verification:
    """Walk the chain; report every row whose hash or link does not hold."""
    result = Verification()
    expected_prev = audit_store.GENESIS
    for event in audit_store.iter_events(store):
        result.count += 1
        if event.prev_hash != expected_prev:
            result.problems.append((event.id, "does not follow the row before it: a row was deleted, inserted or edited"))
        if audit_store.row_hash(event) != event.hash:
            result.problems.append((event.id, "its contents do not match its hash: the row was edited"))
        expected_prev = event.hash
    result.head = expected_prev
    return result


@click.command("verify-audit")
@with_appcontext
def verify_audit_command() -> None:
    """Check that no audit row was edited, inserted or deleted."""
    result = verify(get_store())
    for row_id, problem in result.problems:
        click.echo(f"row {row_id}: {problem}", err=True)
    if not result.ok:
        raise click.ClickException(f"audit trail is NOT intact: {len(result.problems)} problem(s) in {result.count} rows")
    # The head hash anchors the chain: keep a copy elsewhere to detect rows removed from the end.
    click.echo(f"Audit trail intact: {result.count} rows. Head hash {result.head}")


def init_app(app: Flask) -> None:
    app.cli.add_command(verify_audit_command)
