"""appointments: cancelled_at, set when the front desk cancels a visit (NULL: booked)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 21:50:00

One nullable column, added in batch mode as 0005 does: on SQLite a nullable ADD COLUMN is done in
place (no table rebuild), on PostgreSQL it is a plain ALTER TABLE. Existing rows stay booked (NULL).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch_op:
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appointments") as batch_op:
        batch_op.drop_column("cancelled_at")
