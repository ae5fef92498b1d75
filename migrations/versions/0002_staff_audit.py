"""staff workspace: append-only audit trail, a linear chain, forced password change

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MESSAGE = "audit_events is append-only"


def upgrade() -> None:
    op.add_column("staff_users", sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False))
    # One row may follow each row: two writers can never fork the hash chain.
    op.create_index(op.f("ix_audit_events_prev_hash"), "audit_events", ["prev_hash"], unique=True)
    # The database itself refuses UPDATE and DELETE; verify-audit catches whoever gets around it.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    op.drop_index(op.f("ix_audit_events_prev_hash"), table_name="audit_events")
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.drop_column("must_change_password")
