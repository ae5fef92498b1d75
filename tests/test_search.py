"""Search and paging behave the same whichever plan serves them, on both databases."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, delete, insert, text, update

from intake.cli import upgrade_database
from intake.models import Submission
from intake.store import search
from tests.conftest import PG_URL
from tests.staff_support import add_submission

TODAY = dt.date.today()
DAY = dt.timedelta(days=1)


def names_found(store, q: str, **filters) -> set[str]:
    return {r.answers["last_name"] for r in search.page(store, search.Filters(q=q, **filters), TODAY, limit=50).rows}


@pytest.fixture(params=["few", "many"])
def plan(request, monkeypatch):
    """Few matches are sorted in memory; many are walked along the order's indexes with the name as a filter."""
    if request.param == "many":
        monkeypatch.setattr(search, "LIST_CAP", 0)
    return request.param


def test_short_words_match_the_start_of_a_name_longer_ones_any_part(any_app, plan):
    for first, last in [("Li", "Wu"), ("Anna", "Kowulski"), ("Grace", "Walker"), ("Tom", "Ng"), ("Zoë", "Young")]:
        add_submission(any_app, first_name=first, last_name=last, preferred_name="")
    store = any_app.extensions["intake.store"]
    assert names_found(store, "wu") == {"Wu"}  # not Kowulski: two letters match where a name starts
    assert names_found(store, "W") == {"Wu", "Walker"}
    assert names_found(store, "wul") == {"Kowulski"}  # three or more: anywhere in a name
    assert names_found(store, "ng") == {"Ng"} and names_found(store, "oung") == {"Young"}
    assert names_found(store, "li wu") == {"Wu"} and names_found(store, "wu li") == {"Wu"}
    assert names_found(store, "ZOE young") == {"Young"}  # accents and case folded
    assert names_found(store, "li walker") == set()  # every word must match
    assert search.page(store, search.Filters(q="-- '"), TODAY, limit=5).total == 0  # nothing to look up


def test_the_name_index_follows_corrections_and_erasure(any_app, plan):
    kept, changed, erased = (add_submission(any_app, last_name=n) for n in ("Kept", "Before", "Erased"))
    store = any_app.extensions["intake.store"]
    with store.writing() as session:
        session.execute(update(Submission).where(Submission.id == changed.id).values(patient_name="maria after"))
        session.execute(delete(Submission).where(Submission.id == erased.id))
    assert names_found(store, "before") == set() and names_found(store, "after") == {"Before"}
    assert names_found(store, "erased") == set() and names_found(store, "kept") == {"Kept"}
    if any_app.extensions["intake.store"].engine.dialect.name == "sqlite":
        with store.reading() as session:
            assert session.scalar(text("SELECT count(*) FROM submission_names")) == 2


def _clinic(app) -> None:
    """Eight patients named for their place in the dashboard's order, and one who never matches "ana"."""
    # Inserted in this order, so submitted_at grows: the "rest" comes newest first, P1 to P4.
    for last, visit in [("P4", -3), ("P3", -10), ("C1", 0), ("P2", None), ("C2", 0), ("C3", 1), ("P1", -1), ("C4", 5)]:
        add_submission(app, first_name="Ana", last_name=last, preferred_name="",
                       visit_date=None if visit is None else (TODAY + visit * DAY).isoformat())
    add_submission(app, first_name="Zed", last_name="Other", preferred_name="", visit=TODAY + 2 * DAY)


def _walk(store, filters: search.Filters, limit: int = 3) -> tuple[list[str], list[str]]:
    """Every row, page by page forwards, then backwards from the last page; names in dashboard order."""
    forwards, after = [], None
    while True:
        found = search.page(store, filters, TODAY, limit=limit, after=after)
        forwards += [r.answers["last_name"] for r in found.rows]
        if not found.has_after:
            break
        after = found.rows[-1].id
    backwards = [r.answers["last_name"] for r in found.rows]
    before = found.rows[0].id if found.has_before else None  # as the Previous button
    while before:
        found = search.page(store, filters, TODAY, limit=limit, before=before)
        backwards = [r.answers["last_name"] for r in found.rows] + backwards
        before = found.rows[0].id if found.has_before else None
    return forwards, backwards


@pytest.mark.parametrize(("filters", "expected"), [
    ({}, ["C1", "C2", "C3", "C4", "P1", "P2", "P3", "P4"]),
    ({"visit_from": TODAY}, ["C1", "C2", "C3", "C4"]),
    ({"visit_to": TODAY - DAY}, ["P1", "P4", "P3"]),  # past visits by visit date, latest first
    ({"visit_from": TODAY - 5 * DAY, "visit_to": TODAY + DAY}, ["C1", "C2", "C3", "P1", "P4"]),
])
def test_pages_walk_the_same_order_both_ways_whichever_plan(any_app, plan, filters, expected):
    _clinic(any_app)
    store = any_app.extensions["intake.store"]
    forwards, backwards = _walk(store, search.Filters(q="ana", **filters))
    assert forwards == expected and backwards == expected
    everyone, _ = _walk(store, search.Filters(**filters))
    assert [n for n in everyone if n != "Other"] == expected


def test_a_cursor_row_that_no_longer_matches_still_marks_the_place(any_app, plan):
    _clinic(any_app)
    store = any_app.extensions["intake.store"]
    first = search.page(store, search.Filters(q="ana"), TODAY, limit=3)
    with store.writing() as session:  # the last row shown is reviewed, so it leaves the "new" list
        session.execute(update(Submission).where(Submission.id == first.rows[-1].id).values(status="reviewed"))
    rest = search.page(store, search.Filters(q="ana", status="new"), TODAY, limit=10, after=first.rows[-1].id)
    assert [r.answers["last_name"] for r in rest.rows] == ["C4", "P1", "P2", "P3", "P4"]


def test_totals_stop_counting_at_the_cap(any_app, monkeypatch):
    for n in range(5):
        add_submission(any_app, last_name=f"N{n}")
    store = any_app.extensions["intake.store"]
    monkeypatch.setattr(search, "LIST_CAP", 3)
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    found = search.page(store, search.Filters(), TODAY, limit=2)
    assert (found.total, found.total_is_capped, len(found.rows)) == (4, True, 2)
    assert search.page(store, search.Filters(q="n1"), TODAY, limit=2).total == 1
    assert search.counts(store, TODAY)["new"] == 3  # cap + 1: the page shows "2+"


def _rows(n: int, start: int = 0) -> list[dict]:
    now = dt.datetime.now(dt.UTC)
    return [{"id": str(uuid.uuid4()), "reference": f"Z{i:06d}", "submit_token": uuid.uuid4().hex,
             "questionnaire_id": "consultation", "questionnaire_version": "1", "answers": {"last_name": f"Old{i}"},
             "answers_sha256": "0" * 64, "flags": [], "has_stop_flags": False, "status": "new", "language": "en",
             "patient_name": f"maria old{i}", "created_at": now, "submitted_at": now} for i in range(start, start + n)]


def test_the_migration_indexes_the_names_already_stored(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    _upgrade_with_rows_in_between(url)


@pytest.mark.postgres
def test_the_migration_indexes_the_names_already_stored_on_postgresql(pg_schema_url):
    schema = f"intake_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        _upgrade_with_rows_in_between(f"{PG_URL}?options=-csearch_path%3D{schema}")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _upgrade_with_rows_in_between(url: str) -> None:
    from alembic import command

    from intake import crypto
    from intake.cli import alembic_config
    from intake.crypto import keys
    from intake.db import make_engine
    from intake.store import Store

    command.upgrade(alembic_config(url), "0006")  # the schema just before the name index
    engine = make_engine(url)
    crypto.attach(engine, keys.Keyring.from_entries(keys.new_entry()))
    with engine.begin() as conn:
        conn.execute(insert(Submission), _rows(3))
    upgrade_database(url)
    store = Store(engine)
    found = search.page(store, search.Filters(q="MARIA old1"), TODAY, limit=5)
    assert [r.reference for r in found.rows] == ["Z000001"]
    with engine.begin() as conn:  # and rows added after the upgrade are indexed by the triggers (or GIN) as usual
        conn.execute(insert(Submission), _rows(1, start=7))
    assert [r.reference for r in search.page(store, search.Filters(q="old7"), TODAY, limit=5).rows] == ["Z000007"]
    engine.dispose()


@pytest.mark.postgres
def test_two_databases_schemas_migrating_at_once_create_pg_trgm_once(pg_schema_url):
    """Tests migrate one schema each, concurrently; the extension is per database, so they must not race."""
    database = f"intake_ext_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    fresh = PG_URL.rsplit("/", 1)[0] + f"/{database}"
    try:
        schemas = ["one", "two", "three"]
        engine = create_engine(fresh)
        with engine.begin() as conn:
            for schema in schemas:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
        # One process each, as concurrent test runs are (Alembic's context is one per process).
        runs = [subprocess.Popen([sys.executable, "-c", "import sys; from intake.cli import upgrade_database; "
                                  "upgrade_database(sys.argv[1])", f"{fresh}?options=-csearch_path%3D{schema}"],
                                 stderr=subprocess.PIPE, text=True) for schema in schemas]
        errors = [run.communicate(timeout=180)[1] for run in runs]
        assert [run.returncode for run in runs] == [0, 0, 0], errors
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")) == 1
            for schema in schemas:
                assert conn.scalar(text(f"SELECT version_num FROM {schema}.alembic_version")) is not None
                assert conn.scalar(text("SELECT count(*) FROM pg_indexes WHERE schemaname = :s AND indexname = :i"),
                                   {"s": schema, "i": "ix_submissions_name_trgm"}) == 1
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{database}" WITH (FORCE)'))
        admin.dispose()
