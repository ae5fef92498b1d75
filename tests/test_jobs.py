"""The job queue: the sweep, export jobs, failed jobs for administrators, and the queue's configuration."""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import socket

import pytest
from huey import PriorityRedisHuey, SqliteHuey
from sqlalchemy import update

from intake import accounts, jobs, renders
from intake.jobs import sweep
from intake.models import ExportJob, JobFailure, RenderedPdf, utcnow
from intake.store import exports, pdfs
from tests.conftest import make_app
from tests.staff_support import actions, add_submission, as_role, audit_rows, csrf, fake_pdf, login, make_user, users  # noqa: F401


@pytest.fixture
def queued_app(tmp_path, migrated_sqlite):
    """An app with a real SQLite queue and no worker: jobs wait in the queue until a test runs them."""
    shutil.copy(migrated_sqlite, tmp_path / "intake.sqlite3")
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'intake.sqlite3'}", JOBS_IMMEDIATE=False, JOBS_SWEEP_SCAN=3,
                   PDF_WAIT_SECONDS=0)
    yield app
    app.extensions["intake.store"].engine.dispose()


def pending(app) -> list[tuple[str, tuple, int]]:
    return [(t.name.rsplit(".", 1)[-1], t.args, t.priority) for t in jobs.huey_for(app).pending()]


def run_queue(app, limit: int = 100) -> int:
    """Do what a worker does until the queue is empty."""
    huey, ran = jobs.huey_for(app), 0
    with app.app_context():
        while ran < limit and (task := huey.dequeue()) is not None:
            huey.execute(task)
            ran += 1
    return ran


def test_the_queue_is_sqlite_in_the_instance_folder_redis_when_configured_immediate_in_tests(app, queued_app, tmp_path):
    assert jobs.queue.queue_for(app).immediate
    assert isinstance(jobs.huey_for(queued_app), SqliteHuey)
    assert jobs.huey_for(queued_app).storage.filename == str(tmp_path / "jobs.sqlite3")
    redis_app = make_app(tmp_path / "r", f"sqlite:///{tmp_path / 'intake.sqlite3'}", JOBS_IMMEDIATE=False,
                         REDIS_URL="redis://127.0.0.1:6379/0", JOBS_NAME="intake-test-config")
    assert isinstance(jobs.huey_for(redis_app), PriorityRedisHuey)
    assert jobs.huey_for(redis_app).storage.priority
    redis_app.extensions["intake.store"].engine.dispose()


def test_the_sweep_walks_newest_first_in_bounded_steps_and_never_enqueues_twice(queued_app, fake_pdf):
    made = [add_submission(queued_app) for _ in range(5)]
    newest_first = [s.id for s in sorted(made, key=lambda s: (s.submitted_at, s.id), reverse=True)]
    with queued_app.app_context():
        enqueued, cursor = sweep.step()
        assert enqueued == 3 and cursor is not None
        assert [args[0] for _, args, priority in pending(queued_app)] == newest_first[:3]
        assert {priority for *_, priority in pending(queued_app)} == {jobs.LOW}
        assert sweep.step() == (0, cursor), "claimed submissions are not enqueued again"
        assert sweep.step(cursor)[0] == 2
    assert len(pending(queued_app)) == 5
    assert run_queue(queued_app) == 5 and sorted(fake_pdf.rendered) == sorted(newest_first)
    with queued_app.app_context():
        assert sweep.step()[0] == 0


def test_a_sweep_step_enqueues_its_renders_ahead_of_the_next_step(queued_app, fake_pdf):
    for _ in range(4):
        add_submission(queued_app)
    with queued_app.app_context():
        assert sweep.start(force=True)
        assert not sweep.start(), "a chain is walking: the periodic start waits"
    run_queue(queued_app, limit=1)  # the first step: 3 renders at LOW, then the next step at BACKGROUND
    names = [(name, priority) for name, _args, priority in pending(queued_app)]
    assert names[:3] == [("render_pdf", jobs.LOW)] * 3 and names[3] == ("sweep_step", jobs.BACKGROUND)
    run_queue(queued_app)
    assert len(fake_pdf.rendered) == 4


def test_stale_claims_and_dead_workers_are_taken_up_again_but_failures_for_good_are_left(queued_app, fake_pdf):
    stale, dead, failed = (add_submission(queued_app) for _ in range(3))
    store = queued_app.extensions["intake.store"]
    with queued_app.app_context():
        for s in (stale, dead, failed):
            assert renders.request_render(s, urgent=False)
        jobs.huey_for(queued_app).flush()  # the jobs were taken by a worker that was killed at once
        key = {s.id: renders.pdf.cache_key(s) for s in (stale, dead, failed)}
        with store.writing() as session:
            session.execute(update(RenderedPdf).where(RenderedPdf.submission_id == stale.id)
                            .values(updated_at=utcnow() - dt.timedelta(hours=1)))
            session.execute(update(RenderedPdf).where(RenderedPdf.submission_id == dead.id)
                            .values(status="rendering", claimed_by=f"{socket.gethostname()}:999999999"))
            session.execute(update(RenderedPdf).where(RenderedPdf.submission_id == failed.id)
                            .values(status="failed", attempts=renders.MAX_ATTEMPTS, error="RuntimeError"))
        # At worker start: the dead worker's render, and the claim whose job is no longer in the queue.
        assert sweep.reclaim_dead_claims() == 2
        assert sweep.step()[0] == 2
    assert sorted(args[0] for _, args, _p in pending(queued_app)) == sorted([stale.id, dead.id])
    run_queue(queued_app)
    assert pdfs.state(store, failed.id, key[failed.id]).status == "failed"
    assert pdfs.content(store, stale.id, key[stale.id]).startswith(b"%PDF")


def test_staff_waiting_for_a_pdf_see_a_page_that_refreshes_itself(queued_app, fake_pdf):
    submission = add_submission(queued_app)
    physician = make_user(queued_app, "physician")
    client = queued_app.test_client()
    login(client, physician.email)
    response = client.get(f"/staff/submissions/{submission.id}.pdf")
    assert response.status_code == 202 and "being prepared" in response.text
    assert '<meta http-equiv="refresh" content="3">' in response.text and "<script>" not in response.text
    assert fake_pdf.rendered == [], "the web process rendered nothing"
    assert ("render_pdf", (submission.id,), jobs.HIGH) in pending(queued_app)
    run_queue(queued_app)
    response = client.get(f"/staff/submissions/{submission.id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_a_job_that_keeps_failing_is_shown_to_administrators_without_patient_data(app, users, as_role, monkeypatch):
    submission = add_submission(app, goals="Secret goal text")

    def broken(s):
        raise RuntimeError(f"cannot render {s.answers['first_name']}")  # a message with patient data

    monkeypatch.setattr(renders.pdf, "render_summary", broken)
    with app.app_context():
        jobs.enqueue(renders.render_pdf, submission.id)
    with app.extensions["intake.store"].reading() as session:
        [failure] = session.query(JobFailure).all()
    assert (failure.task, failure.args, failure.error) == ("intake.renders.render_pdf", [submission.id], "RuntimeError")
    admin = as_role("admin")
    page = admin.get("/staff/admin/jobs/").text
    assert "render_pdf" in page and "RuntimeError" in page and "Maria" not in page
    monkeypatch.undo()
    from tests.staff_support import FakePdf

    monkeypatch.setattr(renders.pdf, "render_summary", FakePdf().render_summary)
    response = admin.post(f"/staff/admin/jobs/{failure.id}/retry", data={"csrf_token": csrf(page)})
    assert response.status_code == 302 and "job_retried" in actions(app)
    assert "No failed jobs" in admin.get("/staff/admin/jobs/").text
    assert as_role("physician").get(f"/staff/submissions/{submission.id}.pdf").data.startswith(b"%PDF")


# --- export jobs ---------------------------------------------------------------------------------------------------

def test_a_large_csv_is_a_job_built_in_parts_and_matches_the_streamed_file(app, as_role, fake_pdf):
    for n in range(5):
        add_submission(app, last_name=f"Row{n}")
    client = as_role("physician")
    streamed = client.get("/staff/export?format=csv").data
    app.config.update(EXPORT_STREAM_MAX_ROWS=3, EXPORT_PART_BYTES=2000)
    response = client.get("/staff/export?format=csv&from=2000-01-01")
    assert response.status_code == 302
    job_id = response.location.rsplit("/", 1)[-1]
    store = app.extensions["intake.store"]
    assert exports.part_count(store, job_id) > 1
    page = client.get(response.location).text
    assert "Your export is ready" in page and "5 submissions" in page and "http-equiv" not in page
    data = client.get(f"/staff/exports/{job_id}/download").data
    body = lambda raw: list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))  # noqa: E731
    assert body(data) == body(streamed)
    requested = [r for r in audit_rows(app) if r.action == "export_requested"]
    downloaded = [r for r in audit_rows(app) if r.action == "export_downloaded"]
    assert requested[0].detail == {"format": "csv", "from": "2000-01-01", "to": "", "count": 5, "export_id": job_id}
    assert downloaded[0].detail["export_id"] == job_id and downloaded[0].actor_id == requested[0].actor_id


def test_only_the_person_who_asked_may_see_or_download_an_export(app, users, as_role, fake_pdf):
    add_submission(app)
    job_url = as_role("physician").get("/staff/export?format=pdf-zip").location
    other = as_role("admin")
    assert other.get(job_url).status_code == 404
    assert other.get(job_url + "/download").status_code == 404
    assert "export_downloaded" not in actions(app)


def test_a_clinical_export_is_not_handed_over_after_its_owner_became_front_desk(app, users, as_role, fake_pdf):
    add_submission(app)
    physician = as_role("physician")
    job_url = physician.get("/staff/export?format=pdf-zip").location
    assert "Your export is ready" in physician.get(job_url).text
    with app.app_context():
        accounts.set_role(users["physician"].id, "staff", users["admin"])
    assert physician.get(job_url).status_code == 403
    assert physician.get(job_url + "/download").status_code == 403
    assert "export_downloaded" not in actions(app)


def test_an_export_expires_and_its_file_is_deleted(app, as_role, fake_pdf):
    add_submission(app)
    client = as_role("physician")
    job_url = client.get("/staff/export?format=pdf-zip").location
    job_id = job_url.rsplit("/", 1)[-1]
    store = app.extensions["intake.store"]
    assert client.get(job_url + "/download").status_code == 200
    with store.writing() as session:
        session.execute(update(ExportJob).where(ExportJob.id == job_id).values(expires_at=utcnow() - dt.timedelta(minutes=1)))
    assert client.get(job_url + "/download").status_code == 404
    with app.app_context():
        from intake import export_jobs

        export_jobs.purge_expired_exports()
    assert exports.part_count(store, job_id) == 0 and exports.get(store, job_id).status == "expired"
    assert "This export has expired" in client.get(job_url).text


def test_a_zip_job_whose_worker_died_is_built_again(queued_app, fake_pdf):
    from intake import export_jobs

    for _ in range(2):
        add_submission(queued_app)
    staff = make_user(queued_app, "physician")
    client = queued_app.test_client()
    login(client, staff.email)
    job_url = client.get("/staff/export?format=pdf-zip").location
    job_id = job_url.rsplit("/", 1)[-1]
    page = client.get(job_url).text
    assert "Preparing your export" in page and '<meta http-equiv="refresh" content="2">' in page
    assert "0 of 2 submissions done" in page
    store = queued_app.extensions["intake.store"]
    jobs.huey_for(queued_app).flush()  # the worker died with the job in hand
    with store.writing() as session:
        session.execute(update(ExportJob).where(ExportJob.id == job_id).values(
            status="running", claimed_by=f"{socket.gethostname()}:999999999", done=1))
    with queued_app.app_context():
        assert sweep.reclaim_dead_claims() == 1
        assert export_jobs.resume_stale() == 1
    run_queue(queued_app)
    row = exports.get(store, job_id)
    assert (row.status, row.done, row.attempts) == ("done", 2, 1)
    assert client.get(job_url + "/download").data[:2] == b"PK"


def test_a_job_never_runs_outside_an_app():
    from intake.jobs import queue

    with pytest.raises(RuntimeError, match="outside an app"):
        queue._context(None)


def test_the_worker_command_refuses_to_run_jobs_that_run_in_the_caller(runner):
    result = runner.invoke(args=["worker"])
    assert result.exit_code != 0 and "JOBS_IMMEDIATE" in result.output


def test_periodic_jobs_take_minutes_a_crontab_can_express(monkeypatch):
    from intake.jobs import registry

    monkeypatch.setattr(registry, "_DECLARED", dict(registry._DECLARED))  # declared for this test only

    def every_two_hours() -> None: ...

    assert jobs.periodic(minutes=120)(every_two_hours).every_minutes == 120
    assert jobs.find("tests.test_jobs.every_two_hours") is not None
    with pytest.raises(ValueError, match="multiple of 60"):
        jobs.periodic(minutes=90)
