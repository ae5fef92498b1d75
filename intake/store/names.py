"""Name search served by an index: FTS5 (trigram) on SQLite, pg_trgm (GIN) on PostgreSQL.

`submissions.patient_name` holds the folded names ("maria lopez mari"):
lowercase, accents removed. A query word of three or more characters matches
anywhere in a name ("arc" finds García); a shorter word matches the start of a
name ("wu" finds Wu and Wurtz, not Kowulski), because a trigram index cannot look
up one or two letters anywhere. Several words must all match.

On SQLite the names are indexed through `submission_names`, a table keyed by an
INTEGER PRIMARY KEY that triggers keep in step with `submissions`
(migration 0007): FTS5 needs a stable integer rowid, and the rowid of
`submissions` (text primary key) may be renumbered by VACUUM. Each name is
stored there as "  maria  lopez" (two spaces before every word), so that "two
spaces + a short word" is a three-character trigram phrase: the start of a word.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, column, or_, select, table, text

from ..models import Submission
from .submissions import fold

NAMES = table("submission_names", column("n"), column("submission_id"))
FTS = "submission_names_fts"
FTS_TABLE = table(FTS, column("rowid"))
# What migration 0007 creates outside the models (the model/migration test knows them by these names).
SQLITE_OBJECTS = ("submission_names", FTS)
POSTGRESQL_INDEX = "ix_submissions_name_trgm"
ANYWHERE = 3  # shorter words match the start of a name only
MAX_WORDS = 6


def words(q: str) -> list[str]:
    """The folded words of a query that can match a name; words without a letter or digit cannot."""
    return [w for w in fold(q).split() if any(c.isalnum() for c in w)][:MAX_WORDS]


def _word_matches(word: str) -> ColumnElement[bool]:
    name = Submission.patient_name
    if len(word) >= ANYWHERE:
        return name.contains(word, autoescape=True)
    return or_(name.startswith(word, autoescape=True), name.contains(" " + word, autoescape=True))


def row_match(found: list[str]) -> ColumnElement[bool]:
    """Every word matches the row's patient_name: a filter on rows (or on an index entry that holds the name)."""
    return and_(*(_word_matches(w) for w in found))


def fts_query(found: list[str]) -> str:
    """The FTS5 query: one trigram phrase per word, all required."""
    def phrase(word: str) -> str:
        return '"' + (word if len(word) >= ANYWHERE else "  " + word).replace('"', '""') + '"'
    return " AND ".join(phrase(w) for w in found)


def candidates(dialect: str, found: list[str], cap: int) -> Select:
    """The ids of up to cap + 1 submissions whose names match, read from the name index.

    On SQLite only the FTS index and submission_names are read, never a row of submissions; on
    PostgreSQL the GIN index finds the rows and LIKE rechecks them.
    """
    if dialect == "sqlite":
        hits = select(FTS_TABLE.c.rowid).where(text(f"{FTS} MATCH :fts_query").bindparams(fts_query=fts_query(found)))
        return select(NAMES.c.submission_id).where(NAMES.c.n.in_(hits.limit(cap + 1)))
    return select(Submission.id).where(row_match(found)).limit(cap + 1)
