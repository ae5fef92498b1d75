"""Benchmark the CSV export: 20,000 demo submissions, rows per second, peak memory, ratio to a plain loop.

    .venv/bin/python bench/export.py [--rows 20000] [--keep DIR]

Each measured phase runs in a fresh process, so its peak RSS is its own:
  1. setup     migrate a new SQLite file and insert the demo submissions;
  2. baseline  sqlite3 + json + csv.writer over the same rows and columns, nothing else;
  3. intake    the real export (keyset batches, formula guard, flags), as `flask export` and /staff/export run it.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def make_app(folder: Path):
    from intake import create_app

    return create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
                       "SECRET_KEY": "bench"})


def setup(folder: Path, rows: int) -> dict:
    from intake.cli import upgrade_database

    upgrade_database(f"sqlite:///{folder / 'bench.sqlite3'}")
    app = make_app(folder)
    with app.app_context():
        started = time.perf_counter()
        try:
            from intake import demo
        except ImportError:  # before intake.demo exists: answers generated from the definition
            source = "generated from the questionnaire"
            _generated_insert(app.extensions["intake.store"], rows)
        else:
            source = "intake.demo"
            demo.insert(app.extensions["intake.store"], rows)
        return {"inserted": rows, "seconds": time.perf_counter() - started, "source": source}


def _value(question, n: int):
    import datetime as dt

    match question.type:
        case "boolean":
            return n % 2 == 0
        case "integer" | "decimal":
            return int(question.min + n % max(1, int(question.max - question.min)))
        case "date":
            return (dt.date(2025, 1, 1) + dt.timedelta(days=n % 600)).isoformat()
        case "choice" | "open-choice":
            return question.choices[n % len(question.choices)].code
        case "multi-choice":
            return [c.code for c in question.choices[n % 3: n % 3 + 2]]
        case "attachment":
            return None
        case "zone-map":
            return {question.zones[(n + k) % len(question.zones)].code: [question.codes[(n + k) % len(question.codes)]]
                    for k in range(1 + n % 3)}
        case _:
            return f"{question.link_id.replace('_', ' ')} {n} – some words a patient would type"[: question.max_length or 80]


def _generated_insert(store, rows: int) -> None:
    import datetime as dt
    import hashlib
    import uuid

    from sqlalchemy import insert

    from intake import questionnaire
    from intake.models import Submission

    q = questionnaire.load()
    now = dt.datetime.now(dt.UTC)
    for start in range(0, rows, 1000):
        batch = []
        for n in range(start, min(rows, start + 1000)):
            answers = {}
            for question in q.questions():
                if question.type == "group":
                    answers[question.link_id] = [{i.link_id: _value(i, n + k) for i in question.items} for k in range(2)]
                elif (value := _value(question, n)) is not None:
                    answers[question.link_id] = value
            flags = [{"rule_id": "demo", "severity": ("stop", "review", "note")[n % 3], "treatment": "both",
                      "message": "demo flag", "source": "demo"}]
            batch.append(dict(
                id=str(uuid.uuid4()), reference=f"{n:06d}"[:3] + "-" + f"{n:06d}"[3:], submit_token=uuid.uuid4().hex,
                questionnaire_id=q.id, questionnaire_version=q.version, answers=answers,
                answers_sha256=hashlib.sha256(str(n).encode()).hexdigest(), flags=flags, rules_version="demo",
                has_stop_flags=n % 3 == 0, status="new", language="en", patient_name=f"patient {n}",
                date_of_birth=dt.date(1980, 1, 1) + dt.timedelta(days=n % 9000), visit_date=None,
                created_at=now, submitted_at=now - dt.timedelta(seconds=rows - n),
            ))
        with store.writing() as session:
            session.execute(insert(Submission), batch)


def baseline(folder: Path) -> dict:
    """The simplest loop a person would write: same rows, same columns, no guard, no batching.

    The rows are encrypted at rest, so the loop opens each sealed value too (AES-GCM, as Intake does).
    """
    from intake import export, questionnaire
    from intake.crypto.blob import is_sealed, open_blob
    from intake.crypto.keys import Keyring

    keyring = Keyring.from_file(folder / "data_keys")

    def opened(value: bytes, column: str) -> bytes:
        return open_blob(keyring, value, f"submissions.{column}") if is_sealed(value) else value

    q = questionnaire.load()
    header = export.columns(q)
    plan = export.plan(q)
    started = time.perf_counter()
    conn = sqlite3.connect(folder / "bench.sqlite3")
    out = folder / "baseline.csv"
    count = 0
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        query = ("SELECT reference, id, submitted_at, status, reviewed_at, questionnaire_version, language, has_stop_flags, "
                 "flags, answers FROM submissions ORDER BY submitted_at, id")
        for ref, sid, at, status, reviewed, version, lang, stop, flags, answers in conn.execute(query):
            answers = json.loads(opened(answers, "answers"))
            cells = [ref, sid, at, status, reviewed or "", version, lang, stop,
                     "; ".join(f"{f['severity']}: {f['rule_id']}" for f in json.loads(opened(flags, "flags")))]
            for seg in plan:
                if not seg.items:
                    value = answers.get(seg.link_id, "")
                    cells.append("; ".join(map(str, value)) if isinstance(value, list) else value)
                    continue
                entries = answers.get(seg.link_id) or []
                for n in range(seg.repeats):
                    entry = entries[n] if n < len(entries) else {}
                    for item in seg.items:
                        value = entry.get(item, "")
                        cells.append("; ".join(map(str, value)) if isinstance(value, list) else value)
            writer.writerow(cells)
            count += 1
    conn.close()
    seconds = time.perf_counter() - started
    return {"rows": count, "seconds": seconds, "bytes": out.stat().st_size, "peak_rss_mb": peak_rss_mb()}


def intake_export(folder: Path) -> dict:
    from intake import export

    app = make_app(folder)
    out = folder / "intake.csv"
    loaded = peak_rss_mb()  # the app and its libraries, before a single row
    with app.app_context():
        started = time.perf_counter()
        job = export.Job.parse("csv", "", "")
        count = 0
        with open(out, "wb") as handle:
            def tick():
                nonlocal count
                count += 1
            for chunk in job.stream(app.extensions["intake.store"], progress=tick):
                handle.write(chunk)
        seconds = time.perf_counter() - started
    return {"rows": count, "seconds": seconds, "bytes": out.stat().st_size, "peak_rss_mb": peak_rss_mb(),
            "loaded_rss_mb": loaded}


PHASES = {"baseline": baseline, "intake": intake_export}


def run_phase(name: str, folder: Path, *extra: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--phase", name, "--dir", str(folder), *extra],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--phase", choices=["setup", *PHASES], help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase == "setup":
        print(json.dumps(setup(args.dir, args.rows)))
        return
    if args.phase:
        print(json.dumps(PHASES[args.phase](args.dir)))
        return

    folder = args.keep or Path(tempfile.mkdtemp(prefix="intake-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"Inserting {args.rows:,} demo submissions into {folder / 'bench.sqlite3'} …", flush=True)
    made = run_phase("setup", folder, "--rows", str(args.rows))
    print(f"  done in {made['seconds']:.1f} s ({made['source']})")
    base = run_phase("baseline", folder)
    ours = run_phase("intake", folder)
    # Run each once more and keep the faster, so a cold page cache does not decide the ratio.
    base = min(base, run_phase("baseline", folder), key=lambda r: r["seconds"])
    ours = min(ours, run_phase("intake", folder), key=lambda r: r["seconds"])
    ratio = (ours["rows"] / ours["seconds"]) / (base["rows"] / base["seconds"])
    print(f"\n{'':22}{'rows':>8}{'seconds':>10}{'rows/s':>10}{'peak RSS':>11}{'size':>10}")
    for label, r in (("plain sqlite3 + csv", base), ("intake export (CSV)", ours)):
        print(f"{label:22}{r['rows']:>8,}{r['seconds']:>10.2f}{r['rows'] / r['seconds']:>10,.0f}"
              f"{r['peak_rss_mb']:>8.1f} MB{r['bytes'] / 1e6:>7.1f} MB")
    print(f"\nratio to baseline: {ratio:.2f}  (target ≥ 0.50)")
    print(f"peak RSS of the export process: {ours['peak_rss_mb']:.1f} MB  (target < 150 MB); "
          f"{ours['loaded_rss_mb']:.1f} MB of it is the app loaded before the first row")
    if ours["rows"] != args.rows or base["rows"] != args.rows:
        sys.exit(f"row counts differ: inserted {args.rows}, baseline {base['rows']}, export {ours['rows']}")


if __name__ == "__main__":
    main()
