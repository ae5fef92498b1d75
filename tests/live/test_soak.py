"""kill -9 soak: gunicorn and a worker on SQLite, killed at random points while patients submit; nothing is lost."""

from __future__ import annotations

import http.client
import random
import re
import threading
import time

from sqlalchemy import create_engine, text

from .support import Browser, sign_in, walk_patient

KILLS = 10
PDF_DEADLINE = 150  # seconds after the last restart for every acknowledged submission's PDF


def test_kill_minus_9_of_web_and_worker_loses_nothing(site_factory):
    site = site_factory(JOBS_LEASE_SECONDS=20, PDF_WAIT_SECONDS=1)
    assert site.flask("init-db").returncode == 0
    made = site.flask("create-staff", "dr.soak@clinic.test", "--role", "physician",
                      env={"INTAKE_PASSWORD": "soak test passphrase"})
    assert made.returncode == 0, made.stderr
    server = site.server("web", workers=2).start()
    worker = site.worker("worker", processes=2).start()
    references: list[str] = []
    stop = threading.Event()
    rng = random.Random(8)

    def patients() -> None:
        while not stop.is_set():
            try:
                reference = walk_patient(Browser(server.port, timeout=20))
            except (OSError, http.client.HTTPException):
                reference = None  # the server died under this patient; she tries again
            if reference:
                references.append(reference)

    def physician() -> None:
        browser = Browser(server.port, timeout=20)
        while not stop.is_set():
            try:
                if "intake_staff" not in browser.cookies:
                    sign_in(browser, "dr.soak@clinic.test", "soak test passphrase")
                browser.get("/staff/")
            except (OSError, http.client.HTTPException, AttributeError):
                pass
            time.sleep(0.5)

    threads = [threading.Thread(target=patients, daemon=True) for _ in range(2)]
    threads.append(threading.Thread(target=physician, daemon=True))
    for thread in threads:
        thread.start()
    try:
        for kill in range(KILLS):
            time.sleep(rng.uniform(0.5, 2.0))
            victim = server.proc if kill % 2 == 0 else worker  # both, alternately, at random moments
            victim.kill()
            time.sleep(rng.uniform(0.0, 0.5))
            if victim is worker:
                worker.start()
            else:
                server.start()
        time.sleep(2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert len(references) >= 5, f"too few patients got through: {len(references)}\n{server.proc.text()[-2000:]}"
    # A last restart of the worker, as after a power cut; then every PDF must appear in bounded time.
    worker.kill()
    worker.start()
    engine = create_engine(site.database_url)
    try:
        with engine.connect() as conn:
            stored = set(conn.execute(text("SELECT reference FROM submissions")).scalars())
        assert set(references) <= stored, f"acknowledged but lost: {set(references) - stored}"
        deadline = time.monotonic() + PDF_DEADLINE
        missing = set(references)
        while missing and time.monotonic() < deadline:
            with engine.connect() as conn:
                done = set(conn.execute(text(
                    "SELECT s.reference FROM submissions s JOIN rendered_pdfs r ON r.submission_id = s.id "
                    "WHERE r.status = 'ok' AND r.content IS NOT NULL")).scalars())
            missing -= done
            time.sleep(1)
        assert not missing, f"{len(missing)} of {len(references)} PDFs missing {PDF_DEADLINE}s after the last restart"
    finally:
        engine.dispose()
    worker.stop()
    server.proc.stop()
    verified = site.flask("verify-audit")
    assert verified.returncode == 0 and "Audit trail intact" in verified.stdout, verified.stdout + verified.stderr
    # Killed mid-request is a reset connection, never an error page: no request was answered with a 500.
    assert not re.search(r'" 5\d\d ', server.proc.text()), "a request failed with a server error"
