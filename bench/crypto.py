"""Benchmark the price of encryption at rest: the same work with AES-256-GCM sealing on, and switched off.

    .venv/bin/python bench/crypto.py [--rows 20000] [--submits 300] [--keep DIR]

"plain" patches intake.crypto.blob.seal to hand back the JSON bytes unsealed, which read back as legacy
plaintext: the same code path, the same JSON encoding, no AES-GCM. The difference is encryption alone.
Each phase runs in a fresh process, alternating modes, three times; the run with the least CPU is kept.
The cost is computed on CPU time (user + system), because on a shared machine the wall time of a
database that fsyncs every commit is mostly other people's I/O; wall times are shown beside it.
  demo-data  demo.insert(rows), end to end: generate, screen, Core bulk insert (issue 11 inserts a million)
  db write   the same rows prebuilt, only the Core bulk insert timed
  export     the CSV export of those rows, as `flask export` and /staff/export stream it
  submit     submissions.submit() one at a time with realistic answers: the database part of a Submit
  seal/open  one typical answers document, sealed then opened (micro)
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODES = ("sealed", "plain")


def _app(folder: Path, mode: str):
    if mode == "plain":
        from intake.crypto import blob, types

        types.seal = blob.seal = lambda keys, plaintext, context: plaintext
    from intake import create_app
    from intake.cli import upgrade_database

    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    upgrade_database(url)
    return create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": url, "SECRET_KEY": "bench"})


def demo_data(folder: Path, mode: str, rows: int) -> dict:
    from intake import demo

    app = _app(folder, mode)
    started, cpu = time.perf_counter(), time.process_time()
    demo.insert(app.extensions["intake.store"], rows)
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "rows": rows}


def db_write(folder: Path, mode: str, rows: int) -> dict:
    import datetime as dt

    from sqlalchemy import insert

    from intake import answers as answers_mod
    from intake import demo
    from intake.models import Submission, utcnow

    app = _app(folder, mode)
    now = utcnow()
    batch = [{"id": str(uuid.uuid4()), "reference": f"{n:07d}", "submit_token": uuid.uuid4().hex,
              "questionnaire_id": "consultation", "questionnaire_version": "1", "answers": a,
              "answers_sha256": answers_mod.sha256(a), "flags": [{"severity": "note", "rule_id": "x", "message": "m"}],
              "status": "new", "language": "en", "patient_name": "p", "has_stop_flags": False,
              "date_of_birth": dt.date(1980, 1, 1), "created_at": now, "submitted_at": now}
             for n, a in enumerate(demo.generate(rows, seed=3))]
    store = app.extensions["intake.store"]
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, rows, 1000):
        with store.writing() as session:
            session.execute(insert(Submission), batch[start:start + 1000])
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "rows": rows}


def export(folder: Path, mode: str, rows: int) -> dict:
    from intake import export as export_mod

    app = _app(folder, mode)
    with app.app_context():
        started, cpu = time.perf_counter(), time.process_time()
        count = 0
        for chunk in export_mod.Job.parse("csv", "", "").stream(app.extensions["intake.store"]):
            count += chunk.count(b"\n")
        return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "rows": rows}


def submit(folder: Path, mode: str, submits: int) -> dict:
    from intake import demo
    from intake.store import submissions

    app = _app(folder, mode)
    store = app.extensions["intake.store"]
    answers = list(demo.generate(submits, seed=11))
    times = []
    cpu = time.process_time()
    for a in answers:
        started = time.perf_counter()
        submissions.submit(store, submit_token=uuid.uuid4().hex, questionnaire_id="consultation",
                           questionnaire_version="1", answers=a, flags=[])
        times.append(time.perf_counter() - started)
    return {"median_ms": statistics.median(times) * 1000, "p95_ms": sorted(times)[int(len(times) * 0.95)] * 1000,
            "cpu_ms": (time.process_time() - cpu) / submits * 1000}


def micro(folder: Path, mode: str, n: int) -> dict:
    """One answers document through the column type both ways: JSON only (plain), JSON + seal/open (sealed)."""
    import os

    from intake import demo
    from intake.crypto import blob
    from intake.crypto.keys import Keyring

    keyring = Keyring({"k1": os.urandom(32)}, "k1")
    answers = next(demo.generate(1, seed=1))
    document = json.dumps(answers, ensure_ascii=False, separators=(",", ":")).encode()
    context = "submissions.answers"
    cpu = time.process_time()
    for _ in range(n):
        data = json.dumps(answers, ensure_ascii=False, separators=(",", ":")).encode()
        if mode == "sealed":
            data = blob.open_blob(keyring, blob.seal(keyring, data, context), context)
        json.loads(data)
    elapsed = time.process_time() - cpu
    return {"us_per_value": elapsed / n * 1e6, "cpu": elapsed, "rows": n, "seconds": elapsed, "bytes": len(document)}


PHASES = {"demo-data": demo_data, "db write": db_write, "export": export, "submit": submit, "seal/open": micro}


def run(phase: str, folder: Path, mode: str, amount: int) -> dict:
    for _attempt in range(3):
        done = subprocess.run([sys.executable, __file__, "--phase", phase, "--mode", mode, "--dir", str(folder),
                               "--amount", str(amount)], capture_output=True, text=True)
        if done.returncode == 0:
            return json.loads(done.stdout.strip().splitlines()[-1])
        # demo.insert draws random references: at 20,000 rows two collide now and then (UNIQUE): start again.
        print(f"  {phase} {mode} failed ({done.stderr.strip().splitlines()[-1][:160]}); again", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
    raise SystemExit(f"{phase} {mode} failed three times")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--submits", type=int, default=300)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--phase", choices=list(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--amount", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](args.dir, args.mode, args.amount)))
        return

    base = args.keep or Path(tempfile.mkdtemp(prefix="intake-bench-crypto-"))
    results: dict[tuple[str, str], dict] = {}
    plan = [("demo-data", args.rows, "rows"), ("export", args.rows, "rows"), ("db write", args.rows, "w"),
            ("submit", args.submits, "s"), ("seal/open", 20_000, "")]
    for phase, amount, tag in plan:
        for attempt in range(3):
            for mode in (MODES if attempt % 2 == 0 else MODES[::-1]):
                # export reads what demo-data wrote; the other phases get fresh folders
                folder = base / mode / ("rows" if phase in ("demo-data", "export") else f"{tag}{attempt}")
                if phase == "demo-data" and attempt:
                    continue  # the export database is made once
                result = run(phase, folder, mode, amount)
                key = (phase, mode)
                cost = result.get("cpu", result.get("cpu_ms"))
                if key not in results or cost < results[key].get("cpu", results[key].get("cpu_ms")):
                    results[key] = result
                print(f"  {phase:10} {mode:7} {json.dumps(result)}", flush=True)

    print(f"\n{'CPU time':12}{'sealed':>16}{'plain':>16}{'cost':>9}   wall time, sealed / plain")
    for phase, amount, _tag in plan:
        sealed, plain = results[(phase, "sealed")], results[(phase, "plain")]
        if "cpu_ms" in sealed:
            print(f"{phase:12}{sealed['cpu_ms']:>11.2f} ms/1{plain['cpu_ms']:>11.2f} ms/1"
                  f"{sealed['cpu_ms'] / plain['cpu_ms'] - 1:>+9.1%}   median {sealed['median_ms']:.2f} / "
                  f"{plain['median_ms']:.2f} ms, p95 {sealed['p95_ms']:.2f} / {plain['p95_ms']:.2f} ms ({amount} submits)")
        elif phase == "seal/open":
            print(f"{phase:12}{sealed['us_per_value']:>11.1f} µs/1{plain['us_per_value']:>11.1f} µs/1"
                  f"{sealed['us_per_value'] / plain['us_per_value'] - 1:>+9.1%}   one {sealed['bytes']:,}-byte answers "
                  "document through json + seal/open vs json alone")
        else:
            s_rate, p_rate = sealed["rows"] / sealed["cpu"], plain["rows"] / plain["cpu"]
            print(f"{phase:12}{s_rate:>9,.0f} rows/s{p_rate:>9,.0f} rows/s{p_rate / s_rate - 1:>+9.1%}   "
                  f"{sealed['seconds']:.2f} / {plain['seconds']:.2f} s ({amount:,} rows)")


if __name__ == "__main__":
    main()
