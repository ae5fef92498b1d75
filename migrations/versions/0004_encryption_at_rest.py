"""encryption at rest: answers, flags and review notes become sealed blobs; each row records its key id

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25 14:30:00

The data itself is not touched here (a migration has no keys): existing values are copied as their
UTF-8 bytes and still read as legacy plaintext; `flask init-db` seals every row whose key_id is NULL
right after upgrading.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON_COLUMNS = (("drafts", "answers"), ("submissions", "answers"), ("submissions", "flags"))
TEXT_COLUMNS = (("submissions", "review_note"),)
KEYED_TABLES = ("drafts", "submissions", "rendered_pdfs")


def _json_type():
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in KEYED_TABLES:
        columns = [c for t, c in JSON_COLUMNS + TEXT_COLUMNS if t == table]
        # One batch per table: SQLite rebuilds each table once, copying its rows.
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
            if not postgres:
                for column in columns:
                    batch_op.alter_column(column, type_=sa.LargeBinary())
        for column in columns:
            if postgres:
                source = f"{column}::text" if (table, column) in JSON_COLUMNS else column
                op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bytea USING convert_to({source}, 'UTF8')")
            else:
                # SQLite keeps the old TEXT values as TEXT; make every legacy value a BLOB of its UTF-8 bytes.
                op.execute(f"UPDATE {table} SET {column} = CAST({column} AS BLOB) WHERE typeof({column}) = 'text'")


def downgrade() -> None:
    # Only possible while nothing is sealed yet: a migration has no keys to decrypt with.
    bind = op.get_bind()
    for table in KEYED_TABLES[:2]:
        if bind.execute(sa.text(f"SELECT count(*) FROM {table} WHERE key_id IS NOT NULL")).scalar():
            raise RuntimeError(f"{table} holds encrypted rows; decrypt them before downgrading below 0004")
    postgres = bind.dialect.name == "postgresql"
    for table, column in JSON_COLUMNS + TEXT_COLUMNS:
        is_json = (table, column) in JSON_COLUMNS
        if postgres:
            target = "jsonb" if is_json else "text"
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {target} "
                       f"USING convert_from({column}, 'UTF8')::{target}")
        else:
            op.execute(f"UPDATE {table} SET {column} = CAST({column} AS TEXT) WHERE typeof({column}) = 'blob'")
            with op.batch_alter_table(table) as batch_op:
                batch_op.alter_column(column, type_=_json_type() if is_json else sa.Text())
    for table in KEYED_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("key_id")
