"""Benchmark PDF throughput: the worker pool (2 processes) against a serial loop, in the same run.

    .venv/bin/python bench/pdf_batch.py [--count 200] [--workers 2] [--burst 20]

1. serial   this process renders and stores --count demo submissions one after the other
            (renders.ensure_pdf in a plain loop: what one process can do).
2. pool     `flask --app app worker --workers N` (process workers) renders the same submissions again
            from the queue, after the stored PDFs were deleted; timed from the first enqueue to the
            last stored PDF.
3. burst    --burst submissions committed at once through the submit path with the pool running:
            the time from each submission's commit to its stored PDF, p50 and p95.

Prints both throughputs, the ratio pool/serial (target >= 1.6 on 2 cores) and the burst latencies.
A shared or loaded machine distorts all of it, so it also prints the CPU each phase used per PDF and
how many cores the machine actually gave it (from /proc), and the load average at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by `root` and its children (Linux /proc), to see how much CPU the machine gave."""
    total, ticks = 0.0, os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if root in (pid, ppid):
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--burst", type=int, default=20)
    args = parser.parse_args()

    from sqlalchemy import delete, func, select

    from intake import create_app, demo, renders
    from intake.cli import upgrade_database
    from intake.models import RenderedPdf, Submission
    from intake.store import submissions

    folder = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    url = f"sqlite:///{folder / 'intake.sqlite3'}"
    upgrade_database(url)
    settings = {"INSTANCE_PATH": str(folder), "DATABASE_URL": url, "SECRET_KEY": "bench", "JOBS_NAME": "bench"}
    app = create_app(settings)
    store = app.extensions["intake.store"]
    with app.app_context():
        demo.insert(store, args.count, seed=11)
        with store.reading() as session:
            ids = list(session.scalars(select(Submission.id)))

    def stored() -> int:
        with store.reading() as session:
            return session.scalar(select(func.count()).select_from(RenderedPdf).where(RenderedPdf.status == "ok"))

    # 1. serial
    with app.app_context():
        renders.ensure_pdf(submissions.get(store, ids[0]))  # warm up fonts and CSS, as a worker has
        with store.writing() as session:
            session.execute(delete(RenderedPdf))
        start, cpu = time.perf_counter(), time.process_time()
        for submission_id in ids:
            renders.ensure_pdf(submissions.get(store, submission_id))
        serial = time.perf_counter() - start
        serial_cpu = time.process_time() - cpu
        assert stored() == args.count
        with store.writing() as session:
            session.execute(delete(RenderedPdf))

    # 2. pool
    env = {**os.environ, "DATABASE_URL": url, "INTAKE_INSTANCE_PATH": str(folder), "INTAKE_SECRET_KEY": "bench",
           "INTAKE_JOBS_NAME": "bench", "INTAKE_JOBS_MAX_TASKS": "100000"}
    log = open(folder / "worker.log", "wb")  # noqa: SIM115 - closed at the end
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", "--workers", str(args.workers),
                               "--no-periodic"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while b"Huey consumer started" not in (folder / "worker.log").read_bytes():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit("the worker did not start:\n" + (folder / "worker.log").read_text())
            time.sleep(0.1)
        time.sleep(2)  # the start-up sweep found nothing to do; workers are idle and warm
        with app.app_context():
            start, cpu = time.perf_counter(), tree_cpu(worker.pid)
            for submission_id in ids:
                renders.request_render(submissions.get(store, submission_id), urgent=False)
            while stored() < args.count:
                time.sleep(0.05)
            pool = time.perf_counter() - start
            pool_cpu = tree_cpu(worker.pid) - cpu

        # 3. burst
        from intake import questionnaire_ext, screening

        answers = list(demo.generate(args.burst, seed=99))
        with app.app_context():
            q = questionnaire_ext.get()
            made = []
            for one in answers:
                submission, _ = submissions.submit(
                    store, submit_token=uuid.uuid4().hex, questionnaire_id=q.id, questionnaire_version=q.version,
                    answers=one, flags=screening.flag_dicts(one, screening.dt.date.today()),
                    rules_version=screening.RULES_VERSION)
                renders.submitted(submission)
                made.append(submission.id)
            while stored() < args.count + args.burst:
                time.sleep(0.05)
            with store.reading() as session:
                rows = session.execute(select(Submission.submitted_at, RenderedPdf.updated_at)
                                       .join(RenderedPdf, RenderedPdf.submission_id == Submission.id)
                                       .where(Submission.id.in_(made))).all()
        latencies = [(done - submitted).total_seconds() for submitted, done in rows]
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=60)
        log.close()
        store.engine.dispose()

    print(f"PDF batch: {args.count} demo submissions, SQLite, {args.workers} worker processes, {os.cpu_count()} cores")
    print(f"  serial loop (1 process)   {serial:7.1f} s   {args.count / serial:6.2f} PDFs/s")
    print(f"  worker pool ({args.workers} processes) {pool:7.1f} s   {args.count / pool:6.2f} PDFs/s")
    print(f"  throughput ratio pool/serial: {serial / pool:.2f}x  (target >= 1.6x on 2 cores)")
    print(f"  CPU per PDF: serial {serial_cpu / args.count * 1000:.0f} ms, pool {pool_cpu / args.count * 1000:.0f} ms; "
          f"CPU the machine gave: serial {serial_cpu / serial:.2f} cores, pool {pool_cpu / pool:.2f} cores")
    print(f"  estimate on {args.workers} idle cores (serial CPU / pool CPU x {args.workers}): "
          f"{args.workers * serial_cpu / pool_cpu:.2f}x")
    print(f"  burst of {args.burst} submits, commit to stored PDF: p50 {statistics.median(latencies):.2f} s, "
          f"p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s")
    print(f"  load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
