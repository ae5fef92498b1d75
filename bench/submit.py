"""Benchmark the patient's final Submit against GET /healthz, over HTTP, on the same server in the same run.

    .venv/bin/python bench/submit.py [--db sqlite|postgresql] [--patients 40] [--pdf queue|none] [--breakdown]

A server (Werkzeug's threaded server, as `flask run` uses) starts on 127.0.0.1 on a free port, on a fresh
database (a SQLite file in a temporary folder, or a throwaway schema in the `test` database at
127.0.0.1:5432). Each patient walks the whole form over HTTP, untimed; then the final POST of the consent page
(validation of every page, screening, the one write transaction with its fsync, the redirect) is timed, and
so is a GET /healthz (one database read) right before and right after it. Prints both p50s and their ratio.

--pdf queue (the default) enqueues the PDF on the embedded job queue, as a real submit does (no worker runs
            here, so no render competes for the CPU); --pdf none leaves it unscheduled, to see what the enqueue costs.
Rate limits are off: 43 patients from one address in a minute would trip the start-form limit.
--breakdown also times each step of the same Submit in process (test client), as medians in ms.
Not part of the test suite; timings never are.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("INTAKE_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SERVER = """
import sys
from werkzeug.serving import make_server
from intake import create_app
app = create_app({"INSTANCE_PATH": sys.argv[1], "DATABASE_URL": sys.argv[2], "SECRET_KEY": "bench",
                  "RATELIMIT_ENABLED": False})
if sys.argv[3] == "none":
    import intake.renders
    intake.renders.submitted = lambda submission: None
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


class Browser:
    """Just enough of a browser: cookies, form posts, no redirects followed."""

    def __init__(self, port: int) -> None:
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name] = value
        conn.close()
        return response.status, text


def hidden(html: str) -> dict[str, str]:
    from tests.conftest import hidden_fields

    return hidden_fields(html)


def walk(browser: Browser) -> dict:
    """Fill every page up to consent; return the consent page's form, ready to post."""
    from tests.walk import PAGES, SECTIONS

    _, page = browser.request("GET", "/")
    status, _ = browser.request("POST", "/intake/start", hidden(page))
    assert status == 302, status
    for section in SECTIONS:
        _, page = browser.request("GET", f"/intake/{section}")
        status, text = browser.request("POST", f"/intake/{section}", {**hidden(page), **PAGES[section], "action": "next"})
        assert status == 302, f"{section}: {status} {text[:300]}"
    browser.request("GET", "/intake/review")
    _, page = browser.request("GET", "/intake/consent")
    return {**hidden(page), **PAGES["consent"], "action": "next"}


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def over_http(url: str, folder: Path, patients: int, pdf: str) -> tuple[list[float], list[float]]:
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(folder), url, pdf], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        port = int(server.stdout.readline())
        submits, health = [], []
        for n in range(patients + 3):
            browser = Browser(port)
            form = walk(browser)

            def health_check(browser=browser):
                assert browser.request("GET", "/healthz")[0] == 200

            def submit(browser=browser, form=form):
                status, _ = browser.request("POST", "/intake/consent", form)
                assert status == 302, status
            before, took, after = timed(health_check), timed(submit), timed(health_check)
            if n >= 3:  # three warm-up patients
                submits.append(took)
                health += [before, after]
        return submits, health
    finally:
        server.terminate()
        server.wait(timeout=30)


STEPS = {  # (module, attribute): the label of the step it does
    ("intake.store.submissions", "get_by_token"): "read: a submission with this submit token?",
    ("intake.store.drafts", "get"): "read: the draft",
    ("intake.forms", "section_errors"): "validate every page again",
    ("intake.screening", "flag_dicts"): "screening",
    ("intake.store.Store", "writing"): "write: insert, delete draft, commit (fsync)",
    ("intake.renders", "submitted"): "enqueue the PDF",
}


def breakdown(url: str, folder: Path, patients: int, pdf: str) -> None:
    """Time each step of the final Submit in process, by wrapping the functions that do them."""
    import contextlib
    import importlib

    from intake import create_app
    from tests.conftest import Patient, hidden_fields
    from tests.walk import PAGES, walk_to_consent

    app = create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    spent = {label: [] for label in STEPS.values()}
    current: dict[str, float] = {}
    calls: dict[str, int] = {}
    active = [False]

    def wrap(label, function, is_context=False):
        def timed_call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                if active[0]:
                    current[label] = current.get(label, 0) + (time.perf_counter() - started) * 1000
                    calls[label] = calls.get(label, 0) + 1

        @contextlib.contextmanager
        def timed_context(*args, **kwargs):
            started = time.perf_counter()
            with function(*args, **kwargs) as value:
                yield value
            if active[0]:
                current[label] = current.get(label, 0) + (time.perf_counter() - started) * 1000
                calls[label] = calls.get(label, 0) + 1
        return timed_context if is_context else timed_call

    for (module_name, attribute), label in STEPS.items():
        if attribute == "writing":
            from intake.store import Store
            Store.writing = wrap(label, Store.writing, is_context=True)
            continue
        module = importlib.import_module(module_name)
        if attribute == "submitted" and pdf == "none":
            module.submitted = lambda submission: None
        setattr(module, attribute, wrap(label, getattr(module, attribute)))
    totals = []
    for n in range(patients + 3):
        patient = Patient(app.test_client())
        walk_to_consent(patient)
        form = {**hidden_fields(patient.client.get("/intake/consent").text), **PAGES["consent"], "action": "next"}
        current.clear()
        calls.clear()
        active[0] = True
        took = timed(lambda form=form, patient=patient: patient.client.post("/intake/consent", data=form))
        active[0] = False
        if n >= 3:
            totals.append(took)
            for label in spent:
                spent[label].append(current.get(label, 0.0))
    print(f"\n  In process (test client), median ms of {patients} final submits: total {statistics.median(totals):.2f}")
    accounted = 0.0
    for label, values in spent.items():
        accounted += statistics.median(values)
        print(f"    {label:48}{statistics.median(values):7.2f}  ({calls.get(label, 0)} call(s))")
    print(f"    {'the rest: CSRF, form, session, answers, redirect':48}{statistics.median(totals) - accounted:7.2f}")


def database(kind: str, folder: Path) -> tuple[str, callable]:
    from sqlalchemy import create_engine, text

    from intake.cli import upgrade_database

    if kind == "sqlite":
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
        upgrade_database(url)
        return url, lambda: None
    schema = f"intake_bench_submit_{os.getpid()}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    upgrade_database(url)

    def drop():
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    return url, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--pdf", choices=["queue", "none"], default="queue")
    parser.add_argument("--breakdown", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="intake-bench-submit-"))
    url, drop = database(args.db, folder)
    try:
        print(f"{args.db}, PDF: {args.pdf}, {args.patients} patients over HTTP (load average {os.getloadavg()[0]:.2f})")
        submits, health = over_http(url, folder, args.patients, args.pdf)
        ratio = statistics.median(submits) / statistics.median(health)
        print(f"  final submit  p50 {statistics.median(submits):6.2f} ms  p95 {statistics.quantiles(submits, n=20)[18]:6.2f} ms")
        print(f"  GET /healthz  p50 {statistics.median(health):6.2f} ms  p95 {statistics.quantiles(health, n=20)[18]:6.2f} ms")
        print(f"  ratio {ratio:.2f}  (target <= 3)   load average now {os.getloadavg()[0]:.2f}")
        if args.breakdown:
            breakdown(url, folder, args.patients, args.pdf)
    finally:
        drop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
