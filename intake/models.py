"""The database schema, as SQLAlchemy 2 declarative models.

Queries live in store.py; this module only describes tables. Alembic
migrations in migrations/ create them, and a test checks the two agree.
Patient answers, flags, notes (and PDFs) are Encrypted* columns: sealed on
the way in, plain Python values on the way out (intake/crypto/types.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, false, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime, TypeDecorator

from .crypto.types import EncryptedBytes, EncryptedJSON, EncryptedRow, EncryptedText, track_key_ids

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Store naive UTC, hand back aware UTC, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class Draft(EncryptedRow, Base):
    """A questionnaire in progress, reachable by its resume token."""

    __tablename__ = "drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    submit_token: Mapped[str] = mapped_column(String(64), unique=True)
    answers: Mapped[dict] = mapped_column(EncryptedJSON("drafts.answers"), default=dict)
    page: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(10), default="en")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    # Wrong dates of birth typed to reopen it on a shared device; the resume link resets it (intake.web.draft_access).
    unlock_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The hash of the link last e-mailed for it (intake/mail): opening that link makes it the resume token,
    # so a kiosk still working on the draft is not cut off when the e-mail goes out (store.drafts.issue_mail_token).
    mail_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)


# Carried in the dashboard's indexes, so filters are tested on the index entry before any row is read.
FILTERED = ("status", "has_stop_flags", "patient_name")


class Submission(EncryptedRow, Base):
    """A submitted questionnaire. Committed before anything else happens to it."""

    __tablename__ = "submissions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    submit_token: Mapped[str] = mapped_column(String(64), unique=True)
    questionnaire_id: Mapped[str] = mapped_column(String(60))
    questionnaire_version: Mapped[str] = mapped_column(String(40))
    answers: Mapped[dict] = mapped_column(EncryptedJSON("submissions.answers"))
    answers_sha256: Mapped[str] = mapped_column(String(64))
    flags: Mapped[list] = mapped_column(EncryptedJSON("submissions.flags"), default=list)
    rules_version: Mapped[str | None] = mapped_column(String(40))
    has_stop_flags: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="new")
    language: Mapped[str] = mapped_column(String(10), default="en")
    # Denormalised for staff search; derived from answers at submit time.
    patient_name: Mapped[str] = mapped_column(String(300), default="")
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date, index=True)
    visit_date: Mapped[dt.date | None] = mapped_column(Date)
    review_note: Mapped[str | None] = mapped_column(EncryptedText("submissions.review_note"))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The dashboard's indexes (intake/store/listing.py): each list, count and search reads one range.
    # Name search has its own index, created by migration 0007 per database (intake/store/names.py).
    __table_args__ = (
        Index("ix_submissions_coming", "visit_date", "submitted_at", "id", *FILTERED),
        Index("ix_submissions_newest", "submitted_at", "id", "visit_date", *FILTERED),
        Index("ix_submissions_new", "submitted_at", "id", "visit_date",
              sqlite_where=text("status = 'new'"), postgresql_where=text("status = 'new'")),
        Index("ix_submissions_new_stop", "submitted_at", "id", "visit_date",
              sqlite_where=text("status = 'new' AND has_stop_flags = 1"),
              postgresql_where=text("status = 'new' AND has_stop_flags")),
    )


class RenderedPdf(EncryptedRow, Base):
    """One rendering of a submission's PDF, keyed by what went into it."""

    __tablename__ = "rendered_pdfs"
    __table_args__ = (UniqueConstraint("submission_id", "cache_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    cache_key: Mapped[str] = mapped_column(String(64))
    # What went into it apart from the answers (rules, template, WeasyPrint, settings): the sweep's key.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # queued, rendering, ok, failed
    # The PDF itself, encrypted at rest (intake.crypto). Read and written only in store/pdfs.py.
    content: Mapped[bytes | None] = mapped_column(EncryptedBytes("rendered_pdfs.content"), deferred=True)
    size: Mapped[int | None] = mapped_column(Integer)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    claimed_by: Mapped[str | None] = mapped_column(String(120))  # host:pid of the worker rendering it
    error: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


Index("ix_rendered_pdfs_submission_fingerprint", RenderedPdf.submission_id, RenderedPdf.fingerprint)


class Photo(EncryptedRow, Base):
    """A photo the patient added (issue 13): re-encoded JPEG without EXIF, sealed like the answers.

    It belongs to a draft while the form is filled in, then to the submission (moved in the submit's
    transaction). Read and written only in store/photos.py; never served from a public URL.
    """

    __tablename__ = "photos"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    caption: Mapped[str] = mapped_column(EncryptedText("photos.caption"), default="")
    data: Mapped[bytes] = mapped_column(EncryptedBytes("photos.data"), deferred=True)
    content_type: Mapped[str] = mapped_column(String(40), default="image/jpeg")
    size: Mapped[int] = mapped_column(Integer, default=0)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExportJob(Base):
    """A large export made by a worker; its bytes are kept in export_parts until it expires."""

    __tablename__ = "export_jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    format: Mapped[str] = mapped_column(String(20))
    date_from: Mapped[dt.date | None] = mapped_column(Date)
    date_to: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)  # queued, running, done, failed, expired
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    downloaded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ExportPart(EncryptedRow, Base):
    """One chunk of a finished export's file, encrypted at rest. Read and written only in store/exports.py."""

    __tablename__ = "export_parts"
    __table_args__ = (UniqueConstraint("job_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("export_jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(EncryptedBytes("export_parts.data"), deferred=True)


class JobFailure(Base):
    """A background job that failed for good: shown to administrators, who can run it again.

    `args` are ids only (task authors never pass patient data to a job), and
    `error` is an exception class name or a fixed sentence, never a message.
    """

    __tablename__ = "job_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    args: Mapped[list] = mapped_column(JSONType, default=list)
    error: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    retried_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class StaffUser(EncryptedRow, Base):
    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # TOTP (intake.mfa): the secret, encrypted with the data keys like the answers (rotate-key covers it); set
    # from the first enrolment step, and in force once mfa_enabled_at is set. mfa_last_step refuses a replayed code.
    mfa_secret: Mapped[str | None] = mapped_column(EncryptedText("staff_users.mfa_secret"))
    mfa_enabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    mfa_last_step: Mapped[int | None] = mapped_column(Integer)


class StaffSession(Base):
    """A server-side staff session; the cookie only carries its id."""

    __tablename__ = "staff_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """Append-only, hash-chained record of access. Never holds patient data."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    actor_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40), index=True)
    submission_id: Mapped[str | None] = mapped_column(String(36), index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict] = mapped_column(JSONType, default=dict)
    # Unique: each row has exactly one successor, so the chain cannot fork.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class OutboundMail(EncryptedRow, Base):
    """One e-mail the app sends (intake/mail): queued on the request path, sent by a job, recorded here.

    The recipient is patient data (or a staff address): encrypted. No body and no link is stored: the
    job builds the message, minting a fresh token where it carries a link, when it sends. `once_key`
    makes a send happen at most once ("reminder_72h:<appointment id>", "submitted:<submission id>",
    "digest:<date>"): NULL for sends staff may repeat (invitations, resume links).
    """

    __tablename__ = "outbound_mail"
    __table_args__ = (Index("ix_outbound_mail_status_created", "status", "created_at"),)  # the round's "lost" scan
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # invitation, reminder, resume_link, submitted, digest
    once_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    appointment_id: Mapped[int | None] = mapped_column(Integer, index=True)
    draft_id: Mapped[int | None] = mapped_column(Integer)
    submission_id: Mapped[str | None] = mapped_column(String(36))
    address: Mapped[str | None] = mapped_column(EncryptedText("outbound_mail.address"))
    language: Mapped[str] = mapped_column(String(10), default="en")
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))  # an exception class name, never a message
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


track_key_ids(Base)
class RecoveryCode(Base):
    """A one-time MFA recovery code, stored as an argon2id hash; used_at is set when it is spent."""

    __tablename__ = "staff_recovery_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Setting(Base):
    """Clinic-wide settings an administrator changes in the app (e.g. require_mfa)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class KioskDevice(Base):
    """A clinic tablet signed in as a kiosk; its cookie carries a random token, this row only its SHA-256."""

    __tablename__ = "kiosk_devices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class MailRequest(Base):
    """An e-mail a patient asked for (the resume link, from a kiosk), waiting for the mailer.

    No secret is kept: the mailer mints a fresh resume token for the draft when it sends.
    """

    __tablename__ = "mail_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(10), default="en")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Appointment(EncryptedRow, Base):
    """A visit the clinic booked, and the invitation that binds its form to it (intake.appointments).

    Patient fields are encrypted; the invitation token is stored as its SHA-256 only. The draft and
    the submission are bound here, so the drafts and submissions tables are untouched.
    """

    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    treatments: Mapped[str] = mapped_column(String(20))  # neurotoxin | microneedling | both | consultation
    language: Mapped[str] = mapped_column(String(10), default="en")
    patient_name: Mapped[str] = mapped_column(EncryptedText("appointments.patient_name"))
    email: Mapped[str | None] = mapped_column(EncryptedText("appointments.email"))
    mobile: Mapped[str | None] = mapped_column(EncryptedText("appointments.mobile"))
    earlier_submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id", ondelete="SET NULL"))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    token_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    invited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id", ondelete="SET NULL"), index=True)
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id", ondelete="SET NULL"), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the front desk cancels the visit (None: booked). The link then shows "cancelled", and the
    # appointment gets no reminders and is left out of the "no form yet" counts; restoring clears it.
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AppointmentMail(Base):
    """One e-mail sent for an appointment (kind: invitation, reminder-72h, reminder-24h, ...): sent once."""

    __tablename__ = "appointment_mails"
    __table_args__ = (UniqueConstraint("appointment_id", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
