"""e-mail: outbound_mail, one row per message the app sends (recipient encrypted), at most once per once_key

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 17:45:00

A new table, and one nullable column on drafts added in place (plain ADD COLUMN, no table rebuild):
mail_token_hash, the hash of the resume link last e-mailed for a draft. mail_requests (the kiosk's recorded requests) stays
until its pending rows have been carried over by the mailer (intake/mail/jobs.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbound_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("once_key", sa.String(length=80), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("submission_id", sa.String(length=36), nullable=True),
        sa.Column("address", sa.LargeBinary(), nullable=True),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("key_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("once_key"),
    )
    op.create_index("ix_outbound_mail_appointment_id", "outbound_mail", ["appointment_id"], unique=False)
    op.create_index("ix_outbound_mail_status_created", "outbound_mail", ["status", "created_at"], unique=False)
    op.add_column("drafts", sa.Column("mail_token_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_drafts_mail_token_hash", "drafts", ["mail_token_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_drafts_mail_token_hash", table_name="drafts")
    op.drop_column("drafts", "mail_token_hash")  # SQLite 3.35+ drops a column in place
    op.drop_index("ix_outbound_mail_status_created", table_name="outbound_mail")
    op.drop_index("ix_outbound_mail_appointment_id", table_name="outbound_mail")
    op.drop_table("outbound_mail")
