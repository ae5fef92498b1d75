"""Retention and erasure: expired drafts really deleted, retention purges audited, one submission erased everywhere."""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from intake import retention
from intake.models import Draft, ExportJob, ExportPart, RenderedPdf, Submission, utcnow
from intake.retention.erasure import Eraser
from intake.store import drafts
from tests.staff_support import add_submission, as_role, audit_rows, csrf, users  # noqa: F401
from tests.walk import PAGES, walk_to_consent


def count(store, model) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def backdate(store, submission_id: str, days: int, visit_days: int | None = None) -> None:
    when = utcnow() - dt.timedelta(days=days)
    visit = None if visit_days is None else (utcnow() - dt.timedelta(days=visit_days)).date()
    with store.writing() as session:
        session.execute(update(Submission).where(Submission.id == submission_id)
                        .values(submitted_at=when, created_at=when, visit_date=visit))


# --- drafts --------------------------------------------------------------------------------------------------------

def test_expired_drafts_are_deleted_by_the_periodic_job_not_hidden(any_app):
    store = any_app.extensions["intake.store"]
    kept, _ = drafts.create(store, "about-you")
    expired, _ = drafts.create(store, "skin")
    drafts.save(store, expired, {"goals": "old draft"}, "skin")
    with store.writing() as session:
        session.execute(update(Draft).where(Draft.token_hash == drafts.hash_token(expired))
                        .values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert retention.run_periodic(any_app) == {"drafts": 1, "submissions": 0}
    with store.engine.connect() as conn:  # gone from the table, not merely filtered out
        assert conn.execute(text("SELECT token_hash FROM drafts")).scalars().all() == [drafts.hash_token(kept)]
    [event] = [e for e in audit_rows(any_app) if e.action == "drafts_purged"]
    assert event.detail == {"count": 1} and event.actor_email == "retention job"
    assert retention.run_periodic(any_app) == {"drafts": 0, "submissions": 0}
    assert len([e for e in audit_rows(any_app) if e.action == "drafts_purged"]) == 1  # nothing deleted, nothing logged


def test_a_purged_draft_leaves_no_bytes_in_the_sqlite_file_or_wal(app):
    store = app.extensions["intake.store"]
    token, _ = drafts.create(store, "skin")
    secret = drafts.hash_token(token).encode()  # a clear column of the row, easy to look for
    with store.writing() as session:
        session.execute(update(Draft).values(expires_at=utcnow() - dt.timedelta(days=1)))
    assert secret in raw_database(app)
    assert retention.purge_drafts(store) == 1
    assert secret not in raw_database(app)


def test_the_purge_command_runs_the_same_job(app):
    store = app.extensions["intake.store"]
    drafts.create(store, "skin")
    with store.writing() as session:
        session.execute(update(Draft).values(expires_at=utcnow() - dt.timedelta(days=1)))
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 expired draft(s)" in result.output and "Retention is off" in result.output
    assert count(store, Draft) == 0


# --- retention -----------------------------------------------------------------------------------------------------

def test_retention_is_off_by_default(app):
    store = app.extensions["intake.store"]
    old = add_submission(app)
    backdate(store, old.id, days=4000, visit_days=4000)
    assert retention.run_periodic(app)["submissions"] == 0 and count(store, Submission) == 1


def test_submissions_past_retention_are_erased_by_the_job_each_with_a_tombstone(any_app):
    store = any_app.extensions["intake.store"]
    any_app.config["RETENTION_DAYS"] = 365
    old = [add_submission(any_app) for _ in range(2)]
    for s in old:
        backdate(store, s.id, days=400, visit_days=399)
    booked_ahead = add_submission(any_app)
    backdate(store, booked_ahead.id, days=400, visit_days=-3)  # submitted long ago, visit still to come: kept
    recent = add_submission(any_app)
    assert retention.run_periodic(any_app) == {"drafts": 0, "submissions": 2}
    with store.reading() as session:
        assert set(session.scalars(select(Submission.id))) == {booked_ahead.id, recent.id}
    tombstones = [e for e in audit_rows(any_app) if e.action == "submission_erased"]
    assert {e.submission_id for e in tombstones} == {s.id for s in old}
    for event, submission in zip(sorted(tombstones, key=lambda e: e.submission_id),
                                 sorted(old, key=lambda s: s.id), strict=True):
        assert event.detail == {"reference": submission.reference, "answers_sha256": submission.answers_sha256,
                                "reason": "retention_period"}
        assert event.actor_email == "retention job"
    [summary] = [e for e in audit_rows(any_app) if e.action == "retention_purge"]
    assert summary.detail["count"] == 2 and summary.detail["retention_days"] == 365


@pytest.mark.parametrize(("value", "message"), [(7, "under 30 days"), ("ten years", "whole number")])
def test_a_retention_period_that_cannot_be_right_is_refused(app, value, message):
    app.config["RETENTION_DAYS"] = value
    add_submission(app)
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code != 0 and message in result.output
    assert count(app.extensions["intake.store"], Submission) == 1


# --- erasure by an administrator -----------------------------------------------------------------------------------

def erase_form(client, submission, **data):
    page = client.get(f"/staff/submissions/{submission.id}/erase")
    assert page.status_code == 200
    return client.post(f"/staff/submissions/{submission.id}/erase", data={"csrf_token": csrf(page.text), **data})


def test_only_an_administrator_is_offered_erasure(app, as_role):
    submission = add_submission(app)
    assert "Erase this submission" in as_role("admin").get(f"/staff/submissions/{submission.id}").text
    assert "Erase this submission" not in as_role("physician").get(f"/staff/submissions/{submission.id}").text
    assert as_role("physician").get(f"/staff/submissions/{submission.id}/erase").status_code == 403


@pytest.mark.parametrize(("data", "message"), [
    ({"confirm": "{ref}"}, "Choose why this submission is erased."),
    ({"reason": "duplicate", "confirm": "ABC-DEF"}, "Type the reference {ref} exactly"),
    ({"reason": "because I said so", "confirm": "{ref}"}, "Choose why this submission is erased."),
])
def test_erasure_needs_a_listed_reason_and_the_typed_reference(app, as_role, data, message):
    submission = add_submission(app)
    data = {k: v.format(ref=submission.reference) for k, v in data.items()}
    response = erase_form(as_role("admin"), submission, **data)
    assert response.status_code == 422
    assert message.format(ref=submission.reference) in response.text and "Nothing was erased yet" in response.text
    assert count(app.extensions["intake.store"], Submission) == 1


def test_an_erased_submission_is_gone_from_every_table_and_file(app, users, as_role, patient, tmp_path):
    walk_to_consent(patient)
    assert patient.post("consent", PAGES["consent"]).location == "/intake/thanks"
    store = app.extensions["intake.store"]
    with store.reading() as session:
        [submission] = session.scalars(select(Submission)).all()
    admin = as_role("admin")
    assert admin.get(f"/staff/submissions/{submission.id}.pdf").status_code == 200
    assert app.test_cli_runner().invoke(args=["export", "--format", "csv"]).exit_code == 0
    prepared = admin.get("/staff/export?format=pdf-zip")  # a ZIP is a job: its file is kept in the database
    assert prepared.status_code == 302 and "Your export is ready" in admin.get(prepared.location).text
    other = add_submission(app, first_name="Keep", last_name="Me")
    with store.engine.connect() as conn:
        sealed = bytes(conn.execute(text("SELECT answers FROM submissions WHERE id = :i"), {"i": submission.id}).scalar())
    traces = [sealed[40:104], b"maria lopez mari", submission.id.encode()]
    assert all(t in raw_database(app) for t in traces[:2])
    assert count(store, RenderedPdf) == 1 and count(store, ExportJob) == 1 and count(store, ExportPart) >= 1
    assert list((tmp_path / "exports").iterdir())

    response = erase_form(admin, submission, reason="patient_request", confirm=submission.reference.lower())
    assert response.status_code == 302 and response.location == "/staff/"
    assert f"Submission {submission.reference} is erased" in admin.get("/staff/").text

    with store.engine.connect() as conn:
        tables = [t for t in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars()
                  if t != "audit_events"]
        for table in tables:
            for row in conn.execute(text(f'SELECT * FROM "{table}"')).all():
                assert submission.id not in map(str, row) and submission.reference not in map(str, row), table
    assert count(store, RenderedPdf) == 0 and count(store, ExportJob) == 0 and count(store, ExportPart) == 0
    assert not list((tmp_path / "exports").iterdir())
    assert admin.get(prepared.location).status_code == 404
    raw = raw_database(app)
    for trace in traces[:2]:
        assert trace not in raw, trace
    assert admin.get(f"/staff/submissions/{submission.id}").status_code == 404
    assert admin.get(f"/staff/submissions/{other.id}").status_code == 200  # the other patient is untouched
    [tombstone] = [e for e in audit_rows(app) if e.action == "submission_erased"]
    assert tombstone.detail == {"reference": submission.reference, "answers_sha256": submission.answers_sha256,
                                "reason": "patient_request"}
    assert tombstone.actor_id == users["admin"].id and tombstone.submission_id == submission.id
    assert app.test_cli_runner().invoke(args=["verify-audit"]).exit_code == 0


def test_on_postgresql_an_erased_submission_leaves_no_row(pg_app):
    store = pg_app.extensions["intake.store"]
    submission = add_submission(pg_app)
    keep = add_submission(pg_app)
    with store.writing() as session:
        session.execute(text("INSERT INTO rendered_pdfs (submission_id, cache_key, status, attempts, created_at, "
                             "updated_at) VALUES (:i, 'k', 'ok', 1, now(), now())"), {"i": submission.id})
    erased, removed = retention.erase(pg_app, store, submission.id, "duplicate")
    assert removed["rendered PDFs"] == 1 and erased.reference == submission.reference
    with store.engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                   "AND tablename <> 'audit_events'")).scalars().all()
        for table in tables:
            for row in conn.execute(text(f'SELECT * FROM "{table}"')).all():
                assert submission.id not in map(str, row), table
        assert conn.execute(text("SELECT id FROM submissions")).scalars().all() == [keep.id]


def test_tables_added_later_register_their_own_eraser(app, monkeypatch):
    calls = []
    monkeypatch.setattr(retention.erasure, "ERASERS", list(retention.ERASERS))
    eraser = Eraser("a later table", rows=lambda session, erased: calls.append(("rows", erased.reference,
                                                                          session.get(Submission, erased.id) is not None)) or 3,
                    files=lambda flask_app, erased: calls.append(("files", erased.reason)) or 2)
    retention.erasure.register(eraser)
    retention.erasure.register(eraser)  # once per name
    submission = add_submission(app)
    _erased, removed = retention.erase(app, app.extensions["intake.store"], submission.id, "entered_in_error")
    # rows run inside the transaction while the submission still exists; files after the commit
    assert calls == [("rows", submission.reference, True), ("files", "entered_in_error")]
    assert removed["a later table"] == 2


def test_the_erase_command_asks_for_the_reference(app):
    submission = add_submission(app)
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["erase-submission", submission.reference, "--reason", "duplicate"], input="NOPE-123\n")
    assert refused.exit_code != 0 and "nothing was erased" in refused.output
    done = runner.invoke(args=["erase-submission", submission.reference, "--reason", "duplicate"],
                         input=f"{submission.reference}\n")
    assert done.exit_code == 0 and f"Erased {submission.reference}" in done.output, done.output
    assert count(app.extensions["intake.store"], Submission) == 0
    [event] = [e for e in audit_rows(app) if e.action == "submission_erased"]
    assert event.actor_email == "cli" and event.detail["reason"] == "duplicate"


def raw_database(app) -> bytes:
    path = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
