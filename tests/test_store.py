"""Storage: SQLite is configured for durability, migrations match the models, health checks the DB."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from intake.models import Base, Draft, utcnow
from intake.store import drafts, names, submissions


def test_sqlite_runs_in_wal_with_full_sync_and_busy_timeout(app):
    with app.extensions["intake.store"].engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def _outside_the_models(name, type_, parent_names) -> bool:
    """Name search's own objects (migration 0007): one GIN index on PostgreSQL, a table and its FTS5 index on SQLite."""
    if type_ == "table":
        return name in names.SQLITE_OBJECTS or name.startswith(names.FTS + "_")  # FTS5 keeps its data in shadow tables
    return type_ == "index" and name == names.POSTGRESQL_INDEX


@pytest.mark.parametrize("fixture", ["app", "pg_app"])
def test_migrations_match_the_models(request, fixture):
    app = request.getfixturevalue(fixture)
    opts = {"compare_type": True, "include_name": lambda *args: not _outside_the_models(*args)}
    with app.extensions["intake.store"].engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
    assert diff == []


def test_the_name_index_and_partial_indexes_exist_on_each_database(any_app):
    """What the model comparison cannot see: a later migration that rebuilds the table must keep these."""
    with any_app.extensions["intake.store"].engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            found = dict(conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"))
                         .all())
            assert "USING gin (patient_name public.gin_trgm_ops)" in found[names.POSTGRESQL_INDEX]
            assert found["ix_submissions_new"].endswith("WHERE ((status)::text = 'new'::text)")
            assert found["ix_submissions_new_stop"].endswith("WHERE (((status)::text = 'new'::text) AND has_stop_flags)")
        else:
            partial = dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE name LIKE 'ix_submissions_new%'")).all())
            assert partial["ix_submissions_new"].endswith("WHERE status = 'new'")
            assert partial["ix_submissions_new_stop"].endswith("WHERE status = 'new' AND has_stop_flags = 1")
            objects = dict(conn.execute(text("SELECT name, type FROM sqlite_master")).all())
            assert objects["submission_names"] == "table" and "fts5" in conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": names.FTS}).scalar()
            assert {n for n, t in objects.items() if t == "trigger" and "name" in n} == {
                "submissions_name_ai", "submissions_name_au", "submissions_name_ad",
                "submission_names_ai", "submission_names_au", "submission_names_ad"}


def test_expired_drafts_cannot_be_opened_and_are_purged(app):
    store = app.extensions["intake.store"]
    token, _draft = drafts.create(store, page="about-you")
    with store.writing() as session:
        session.query(Draft).update({Draft.expires_at: utcnow() - dt.timedelta(seconds=1)})
    assert drafts.get(store, token) is None
    assert drafts.purge_expired(store) == 1


def test_submit_is_idempotent_per_token(any_app):
    store = any_app.extensions["intake.store"]
    kwargs = dict(submit_token="t" * 32, questionnaire_id="consultation", questionnaire_version="1", answers={"a": 1})
    first, created = submissions.submit(store, **kwargs)
    again, created_again = submissions.submit(store, **{**kwargs, "answers": {"a": 2}})
    assert created and not created_again
    assert again.id == first.id and again.answers == {"a": 1}


def test_references_are_short_and_unambiguous():
    for _ in range(200):
        ref = submissions.new_reference()
        assert len(ref) == 7 and ref[3] == "-"
        assert not set(ref) & set("01ILOU")


def test_healthz_reports_the_database(client, app):
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}


def test_healthz_fails_when_the_database_is_unreachable(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


@pytest.mark.parametrize("query", ["lopez", "LÓPEZ", "maria lopez", "Mari"])
def test_name_search_ignores_case_and_accents(any_app, query):
    from intake.store import search

    store = any_app.extensions["intake.store"]
    answers = {"first_name": "María", "last_name": "López", "preferred_name": "Mari", "date_of_birth": "1986-04-12"}
    submissions.submit(store, submit_token="s" * 32, questionnaire_id="consultation", questionnaire_version="1",
                       answers=answers)
    found = search.page(store, search.Filters(q=query), dt.date.today(), limit=10)
    assert found.total == 1 and found.rows[0].reference
