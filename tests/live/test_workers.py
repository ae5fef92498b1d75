"""Worker processes under gunicorn: a ZIP of 200 unrendered PDFs as a job, and 8 concurrent renders."""

from __future__ import annotations

import csv
import io
import re
import threading
import time
import zipfile

from sqlalchemy import create_engine, text

from .support import Browser, sign_in, walk_patient

GUNICORN_TIMEOUT = 30  # intake.gunicorn_conf, gunicorn's own default too
CRASH_SIGNS = ("GLib", "corrupted", "double-linked", "realloc()", "SIGABRT", "died, restarting", "WORKER TIMEOUT",
               "Segmentation", "core dumped")


def _staff(site, email="dr.zip@clinic.test", role="physician"):
    made = site.flask("create-staff", email, "--role", role, env={"INTAKE_PASSWORD": "live test passphrase"})
    assert made.returncode == 0, made.stderr


def test_a_zip_of_200_unrendered_pdfs_is_a_job_that_beats_the_request_timeout(site_factory):
    site = site_factory()
    assert site.flask("init-db").returncode == 0
    assert site.flask("demo-data", "200").returncode == 0
    _staff(site)
    server = site.server("web", workers=2).start()
    worker = site.worker("worker", processes=2).start()
    physician = Browser(server.port, timeout=GUNICORN_TIMEOUT)
    assert sign_in(physician, "dr.zip@clinic.test", "live test passphrase") == 302
    slowest = 0.0

    def timed(path):
        nonlocal slowest
        started = time.monotonic()
        answer = physician.get(path)
        slowest = max(slowest, time.monotonic() - started)
        return answer

    status, headers, _ = timed("/staff/export?format=pdf-zip")
    assert status == 302 and "/staff/exports/" in headers["location"]
    progress = headers["location"]
    seen_progress = set()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status, _h, page = timed(progress)
        assert status == 200
        if b"Your export is ready" in page:
            break
        done = re.search(rb"(\d+) of 200 submissions done", page)
        assert done and b'http-equiv="refresh"' in page, page[:3000]
        seen_progress.add(int(done.group(1)))
        time.sleep(1)
    else:
        raise AssertionError(f"the export did not finish:\n{worker.text()[-3000:]}")
    status, headers, body = timed(progress + "/download")
    assert status == 200 and headers["content-type"] == "application/zip" and int(headers["content-length"]) == len(body)
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    pdfs = [name for name in archive.namelist() if name.endswith(".pdf")]
    assert len(pdfs) == 200 and all(archive.read(name).startswith(b"%PDF") for name in pdfs[:20])
    index = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode("utf-8-sig"))))
    assert len(index) == 200 and {row["file"] for row in index} == set(pdfs)
    assert slowest < GUNICORN_TIMEOUT / 3, f"a request took {slowest:.1f}s"
    assert len(seen_progress) >= 2, "the page showed the count growing"
    assert "WORKER TIMEOUT" not in server.proc.text()
    engine = create_engine(site.database_url)
    with engine.connect() as conn:
        actions = list(conn.execute(text("SELECT action FROM audit_events ORDER BY id")).scalars())
    engine.dispose()
    assert actions.count("export_requested") == 1 and actions.count("export_downloaded") == 1


def test_eight_concurrent_renders_leave_no_glib_warning_and_crash_no_worker(site_factory):
    site = site_factory(PDF_WAIT_SECONDS=2)
    assert site.flask("init-db").returncode == 0
    _staff(site, "dr.eight@clinic.test", "physician")
    server = site.server("web", workers=2).start()
    worker = site.worker("worker", processes=8).start()
    references: list[str] = []
    errors: list[BaseException] = []

    def patient():
        try:
            reference = walk_patient(Browser(server.port, timeout=60))
            references.append(reference)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    # Load while they render: 8 patients submit at once (8 renders), and a physician asks for each PDF.
    threads = [threading.Thread(target=patient) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not errors and len(references) == 8 and all(references), (errors, references)
    engine = create_engine(site.database_url)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                done = conn.execute(text("SELECT count(*) FROM rendered_pdfs WHERE status = 'ok'")).scalar()
                ids = list(conn.execute(text("SELECT id FROM submissions")).scalars())
            if done == 8:
                break
            time.sleep(0.5)
        assert done == 8, worker.text()[-3000:]
    finally:
        engine.dispose()
    physician = Browser(server.port, timeout=60)
    assert sign_in(physician, "dr.eight@clinic.test", "live test passphrase") == 302
    for submission_id in ids:
        status, headers, body = physician.get(f"/staff/submissions/{submission_id}.pdf")
        assert status == 200 and body.startswith(b"%PDF")
    assert worker.alive
    worker.stop()
    server.proc.stop()
    logs = worker.text() + server.proc.text()
    for sign in CRASH_SIGNS:
        assert sign not in logs, f"{sign!r} in the logs"
    assert worker.text().count("Intake worker:") == 1
