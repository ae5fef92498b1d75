"""dashboard at scale: keyset indexes, partial indexes for counts, an index for name search

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 15:00:00

- ix_submissions_coming / _newest: the dashboard's two index ranges, carrying the filter columns.
- ix_submissions_new / _new_stop: partial indexes; "not yet reviewed" costs what the backlog is, not the table.
- Name search. PostgreSQL: a pg_trgm GIN index on patient_name. SQLite: submission_names (a stable
  INTEGER PRIMARY KEY per submission, kept in step by triggers) and its FTS5 trigram index. Existing rows
  are indexed here.
- The single-column indexes these replace are dropped: every index is paid for on every submit.

PostgreSQL needs the pg_trgm extension. It is trusted since PostgreSQL 13: the database owner can create it
without a superuser. If it is installed already, in any schema, that one is used.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FILTERED = ["status", "has_stop_flags", "patient_name"]
REPLACED = {"has_stop_flags": ["has_stop_flags"], "patient_name": ["patient_name"], "status": ["status"],
            "submitted_at": ["submitted_at"], "visit_date": ["visit_date"]}
# Any constant: migrations of several schemas of one database queue here to create the extension once.
EXTENSION_LOCK = 7_011_007
# "  maria  lopez": two spaces before each word, so the start of a word is a trigram (intake/store/names.py).
SPACED = "'  ' || replace({}, ' ', '  ')"
SQLITE = [
    "CREATE TABLE submission_names (n INTEGER PRIMARY KEY, submission_id VARCHAR(36) NOT NULL UNIQUE, words TEXT NOT NULL)",
    "INSERT INTO submission_names (submission_id, words) SELECT id, " + SPACED.format("patient_name")
    + " FROM submissions ORDER BY submitted_at, id",
    "CREATE VIRTUAL TABLE submission_names_fts USING fts5(words, content='submission_names', content_rowid='n', "
    "tokenize='trigram')",
    "INSERT INTO submission_names_fts (submission_names_fts) VALUES ('rebuild')",
    "CREATE TRIGGER submission_names_ai AFTER INSERT ON submission_names BEGIN "
    "INSERT INTO submission_names_fts (rowid, words) VALUES (new.n, new.words); END",
    "CREATE TRIGGER submission_names_ad AFTER DELETE ON submission_names BEGIN "
    "INSERT INTO submission_names_fts (submission_names_fts, rowid, words) VALUES ('delete', old.n, old.words); END",
    "CREATE TRIGGER submission_names_au AFTER UPDATE ON submission_names BEGIN "
    "INSERT INTO submission_names_fts (submission_names_fts, rowid, words) VALUES ('delete', old.n, old.words); "
    "INSERT INTO submission_names_fts (rowid, words) VALUES (new.n, new.words); END",
    "CREATE TRIGGER submissions_name_ai AFTER INSERT ON submissions BEGIN "
    "INSERT INTO submission_names (submission_id, words) VALUES (new.id, " + SPACED.format("new.patient_name") + "); END",
    "CREATE TRIGGER submissions_name_au AFTER UPDATE OF id, patient_name ON submissions BEGIN "
    "UPDATE submission_names SET submission_id = new.id, words = " + SPACED.format("new.patient_name")
    + " WHERE submission_id = old.id; END",
    "CREATE TRIGGER submissions_name_ad AFTER DELETE ON submissions BEGIN "
    "DELETE FROM submission_names WHERE submission_id = old.id; END",
]
SQLITE_DROP = ["submissions_name_ad", "submissions_name_au", "submissions_name_ai", "submission_names_au",
               "submission_names_ad", "submission_names_ai"]


def _trigram_schema() -> str:
    """Create pg_trgm unless some schema has it already; return that schema."""
    bind = op.get_bind()
    bind.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": EXTENSION_LOCK})
    find = sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                   "WHERE e.extname = 'pg_trgm'")
    if (schema := bind.scalar(find)) is None:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        schema = bind.scalar(find)
    return schema


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for column in REPLACED:
        op.drop_index(f"ix_submissions_{column}", table_name="submissions")
    op.create_index("ix_submissions_coming", "submissions", ["visit_date", "submitted_at", "id", *FILTERED])
    op.create_index("ix_submissions_newest", "submissions", ["submitted_at", "id", "visit_date", *FILTERED])
    op.create_index("ix_submissions_new", "submissions", ["submitted_at", "id", "visit_date"],
                    sqlite_where=sa.text("status = 'new'"), postgresql_where=sa.text("status = 'new'"))
    op.create_index("ix_submissions_new_stop", "submissions", ["submitted_at", "id", "visit_date"],
                    sqlite_where=sa.text("status = 'new' AND has_stop_flags = 1"),
                    postgresql_where=sa.text("status = 'new' AND has_stop_flags"))
    if postgresql:
        schema = _trigram_schema()
        op.execute(f'CREATE INDEX ix_submissions_name_trgm ON submissions USING gin (patient_name "{schema}".gin_trgm_ops)')
    else:
        for statement in SQLITE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_submissions_name_trgm", table_name="submissions")
    else:
        for trigger in SQLITE_DROP:
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE submission_names_fts")
        op.execute("DROP TABLE submission_names")
    for name in ("new_stop", "new", "newest", "coming"):
        op.drop_index(f"ix_submissions_{name}", table_name="submissions")
    for column, columns in REPLACED.items():
        op.create_index(f"ix_submissions_{column}", "submissions", columns)
