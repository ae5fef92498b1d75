"""appointments: visits the clinic booked, their invitation tokens (hash only), and the e-mails sent for them

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 17:40:00

New tables only: the draft and the submission are bound on the appointments row, so neither the
drafts nor the submissions table (with its FTS5 triggers on SQLite) is altered.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_at", sa.DateTime(), nullable=False),
        sa.Column("treatments", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("patient_name", sa.LargeBinary(), nullable=False),
        sa.Column("email", sa.LargeBinary(), nullable=True),
        sa.Column("mobile", sa.LargeBinary(), nullable=True),
        sa.Column("earlier_submission_id", sa.String(length=36), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("invited_at", sa.DateTime(), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=True),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("submission_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=True),  # the data key that sealed the patient fields
        sa.ForeignKeyConstraint(["earlier_submission_id"], ["submissions.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["draft_id"], ["drafts.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id"),
    )
    op.create_index("ix_appointments_visit_at", "appointments", ["visit_at"], unique=False)
    op.create_index("ix_appointments_token_hash", "appointments", ["token_hash"], unique=True)
    op.create_index("ix_appointments_draft_id", "appointments", ["draft_id"], unique=False)

    op.create_table(
        "appointment_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("appointment_id", "kind"),
    )


def downgrade() -> None:
    op.drop_table("appointment_mails")
    op.drop_index("ix_appointments_draft_id", table_name="appointments")
    op.drop_index("ix_appointments_token_hash", table_name="appointments")
    op.drop_index("ix_appointments_visit_at", table_name="appointments")
    op.drop_table("appointments")
