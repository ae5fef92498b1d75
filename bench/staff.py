"""Benchmark the staff dashboard at 100,000 and 1,000,000 submissions, on SQLite and on PostgreSQL.

    .venv/bin/python bench/staff.py [--db sqlite,postgresql] [--rows 100000,1000000] [--runs 15]
                                    [--keep DIR] [--explain]

For each database and size: a throwaway database (a SQLite file; on PostgreSQL a schema intake_bench_N in
the `test` database at 127.0.0.1:5432, or INTAKE_BENCH_PG_URL), migrated, and filled by `intake.demo.insert`.
Then, through the Flask test client (in process, signed in as a physician: the whole request, with the
session check, the audit row each list view writes, the counts and the template), p50 and p95 over --runs
interleaved rounds of each page below, and of the same statements as raw SQL through the driver (sqlite3,
psycopg): the baseline of each ratio. "floor" is a staff page that reads no submission: what every page costs.

--keep DIR keeps the databases (SQLite files in DIR; the schemas stay) and reuses them on the next run,
upgrading them to the newest migration first: that is how "before" (an older checkout running this script)
and "after" share their data. Without it, the run removes its databases at the end. Not part of the test
suite; timings never are.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("INTAKE_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
COLUMNS = "id, reference, patient_name, date_of_birth, visit_date, submitted_at, status, flags, has_stop_flags, answers"
NAME, BROAD = "maria garcia", "garcia"
PASSWORD = "bench password 1234"
DEEP = 2000  # the deep page; smaller for a quick run with few rows (--deep)
DEEP_LABEL = "dashboard, deep page"


def database_url(kind: str, rows: int, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / f'bench-{rows}.sqlite3'}"
    return f"{PG_URL}?options=-csearch_path%3Dintake_bench_{rows}"


def prepare(kind: str, rows: int, folder: Path):
    """Create (or reuse) the database, bring it to the newest schema, fill it; return the app."""
    from sqlalchemy import create_engine, text

    from intake import create_app, demo
    from intake.cli import upgrade_database
    from intake.models import Submission

    url = database_url(kind, rows, folder)
    if kind == "postgresql":
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS intake_bench_{rows}"))
        admin.dispose()
    started = time.perf_counter()
    upgrade_database(url)
    print(f"  schema up to date in {time.perf_counter() - started:.1f} s")
    app = create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": url, "SECRET_KEY": "bench", "CLINIC_NAME": "Bench"})
    store = app.extensions["intake.store"]
    with store.reading() as session:
        have = session.query(Submission).count()
    if have != rows:
        if have:
            sys.exit(f"{url} holds {have:,} submissions, not {rows:,}: remove it or choose another --keep folder")
        started, shown = time.perf_counter(), [0]

        def progress(n: int) -> None:
            shown[0] += n
            if shown[0] % 50_000 < n or shown[0] == rows:
                print(f"\r  inserting demo submissions: {shown[0]:>9,} / {rows:,}  ({time.perf_counter() - started:5.0f} s)",
                      end="", flush=True)
        with app.app_context():
            demo.insert(store, rows, progress=progress)
        print(f"\n  inserted {rows:,} in {time.perf_counter() - started:.0f} s")
        if kind == "postgresql":
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE submissions"))
    return app


def sign_in(app):
    from intake import accounts
    from intake.store import staff as staff_store

    with app.app_context():
        with app.extensions["intake.store"].reading() as session:
            if staff_store.by_email(session, "bench@clinic.test") is None:
                accounts.create_user("bench@clinic.test", "physician", PASSWORD)
    client = app.test_client()
    page = client.get("/staff/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/staff/login", data={"csrf_token": token, "email": "bench@clinic.test", "password": PASSWORD})
    assert response.status_code == 302, response.text[:300]
    return client


def csrf(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/account/password").text).group(1)


def targets(app) -> dict:
    """A patient to look up by date of birth and by reference: the row in the middle of the table."""
    from sqlalchemy import func, select

    from intake.models import Submission

    with app.extensions["intake.store"].reading() as session:
        middle = session.scalar(select(func.count()).select_from(Submission)) // 2
        row = session.execute(select(Submission.reference, Submission.date_of_birth)
                              .order_by(Submission.submitted_at).offset(middle).limit(1)).one()
    return {"reference": row.reference, "dob": row.date_of_birth}


def deep_cursor(app, today: dt.date, page: int, size: int):
    """The cursor of page `page`, found by walking the pages before it (keyset); None on an older checkout."""
    from intake.store import search
    from intake.web import present

    if not hasattr(present, "Cursor"):
        return None
    store, after = app.extensions["intake.store"], None
    for _ in range(page - 1):
        found = search.page(store, search.Filters(), today, limit=size, after=after)
        after = found.rows[-1].id
    with app.test_request_context():
        return present.Cursor(after, True, page).token(), after


def pages(app, client, today: dt.date, target: dict) -> dict:
    """Each measured page as a function that runs it once and checks it worked."""
    from intake.store import search
    from intake.web import staff as staff_views

    token = csrf(client)
    deep = deep_cursor(app, today, DEEP, staff_views.PAGE_SIZE)

    def get(path, expect="Showing "):
        def run():
            response = client.get(path)
            assert response.status_code == 200 and expect in response.text, response.text[:500]
        return run

    def post(expect="Showing |No submissions match", **fields):
        def run():
            response = client.post("/staff/", data={"csrf_token": token, **fields})
            assert response.status_code == 200 and re.search(expect, response.text), response.text[:500]
        return run

    def counts():
        with app.app_context():
            search.counts(app.extensions["intake.store"], today)

    return {
        "dashboard page 1": get("/staff/"),
        DEEP_LABEL: post(cursor=deep[0], expect=f"Page {DEEP:,}") if deep else get(f"/staff/?page={DEEP}", f"Page {DEEP}"),
        f"name search “{NAME}”": post(q=NAME),
        f"broad name “{BROAD}”": post(q=BROAD),
        "date-of-birth search": post(q=target["dob"].strftime("%-m/%-d/%Y")),
        "reference search": post(q=target["reference"]),
        "the counts": counts,
        "floor: a staff page, no query": get("/staff/account/password", "password"),
    }, (deep[1] if deep else None)


def raw_statements(app, today: dt.date, target: dict, deep_id: str | None) -> dict:
    """The same searches as plain SQL, each through its index: the baseline."""
    from sqlalchemy import inspect

    engine = app.extensions["intake.store"].engine
    sqlite = engine.dialect.name == "sqlite"
    p = "?" if sqlite else "%s"
    indexed = "submission_names" in inspect(engine).get_table_names() or not sqlite
    words = NAME.split()
    if sqlite and indexed:
        def by_name(ws):
            match = " AND ".join(f'"{w}"' for w in ws)
            return (f"SELECT {COLUMNS} FROM submissions WHERE id IN (SELECT submission_id FROM submission_names WHERE n IN "
                    f"(SELECT rowid FROM submission_names_fts WHERE submission_names_fts MATCH {p})) "
                    "ORDER BY submitted_at DESC, id DESC LIMIT 25", [match])
    else:  # PostgreSQL's trigram index serves LIKE; before migration 0007 SQLite had no name index: a scan
        def by_name(ws):
            where = " AND ".join(f"patient_name LIKE {p}" for _ in ws)
            return f"SELECT {COLUMNS} FROM submissions WHERE {where} ORDER BY submitted_at DESC, id DESC LIMIT 25", [
                f"%{w}%" for w in ws]
    stamp = today if not sqlite else today.isoformat()
    statements = {
        "dashboard page 1": (f"SELECT {COLUMNS} FROM submissions WHERE visit_date >= {p} "
                             "ORDER BY visit_date, submitted_at, id LIMIT 26", [stamp]),
        f"name search “{NAME}”": by_name(words),
        f"broad name “{BROAD}”": by_name([BROAD]),
        "date-of-birth search": (f"SELECT {COLUMNS} FROM submissions WHERE date_of_birth = {p} "
                                 "ORDER BY submitted_at DESC, id DESC LIMIT 25",
                                 [target["dob"].isoformat() if sqlite else target["dob"]]),
        "reference search": (f"SELECT {COLUMNS} FROM submissions WHERE reference = {p}", [target["reference"]]),
        "the counts": ("SELECT " + ", ".join(
            f"(SELECT count(*) FROM (SELECT id FROM submissions WHERE {w} LIMIT 10001) AS c{i})"
            for i, w in enumerate([f"visit_date = {p}", f"visit_date > {p}", "status = 'new'",
                                   "status = 'new' AND has_stop_flags" + (" = 1" if sqlite else "")])), [stamp, stamp]),
    }
    if deep_id:
        statements[DEEP_LABEL] = (
            f"SELECT {COLUMNS} FROM submissions WHERE (visit_date < {p} OR visit_date IS NULL) AND (submitted_at, id) < "
            f"(SELECT submitted_at, id FROM submissions WHERE id = {p}) ORDER BY submitted_at DESC, id DESC LIMIT 26",
            [stamp, deep_id])
    else:
        statements[DEEP_LABEL] = (f"SELECT {COLUMNS} FROM submissions ORDER BY submitted_at DESC, id DESC "
                                              "LIMIT 25 OFFSET 49975", [])
    return statements


def raw_runner(app, statements: dict) -> dict:
    engine = app.extensions["intake.store"].engine
    conn = engine.raw_connection()

    def runner(sql, params):
        def run():
            cursor = conn.cursor()
            cursor.execute(sql, params)
            cursor.fetchall()
            cursor.close()
            if engine.dialect.name != "sqlite":
                conn.rollback()
        return run
    return {label: runner(*statement) for label, statement in statements.items()}


def measure(runs: int, funcs: dict) -> dict:
    """Interleaved rounds in rotating order, two of them unmeasured warm-ups; milliseconds per label."""
    times = {label: [] for label in funcs}
    labels = list(funcs)
    for round_no in range(runs + 2):
        shift = round_no % len(labels)
        for label in labels[shift:] + labels[:shift]:
            started = time.perf_counter()
            funcs[label]()
            if round_no >= 2:
                times[label].append((time.perf_counter() - started) * 1000)
    return times


def p50(xs): return statistics.median(xs)
def p95(xs): return statistics.quantiles(xs, n=20, method="inclusive")[18] if len(xs) > 1 else xs[0]


def explain(app, client, run) -> None:
    """Print the plan of every statement one page runs (after the fact, with the same parameters)."""
    from sqlalchemy import event

    engine, seen = app.extensions["intake.store"].engine, []

    def record(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"\b(FROM|JOIN) submission(s|_names)\b", statement) and statement.lstrip().startswith("SELECT"):
            seen.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", record)
    run()
    event.remove(engine, "before_cursor_execute", record)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        for statement, parameters in seen:
            plan = conn.exec_driver_sql(prefix + statement, parameters).all()
            print("     " + " | ".join(str(r[-1]) for r in plan)[:600])


def _remove(folder: Path, kinds: list[str], sizes: list[int]) -> None:
    import shutil

    from sqlalchemy import create_engine, text

    shutil.rmtree(folder, ignore_errors=True)
    if "postgresql" in kinds:
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            for rows in sizes:
                conn.execute(text(f"DROP SCHEMA IF EXISTS intake_bench_{rows} CASCADE"))
        admin.dispose()


def machine() -> str:
    import sqlite3

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))) / 1024 / 1024
    return (f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--rows", default="100000,1000000")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", type=Path, help="keep the databases in this folder (SQLite) and reuse them")
    parser.add_argument("--explain", action="store_true", help="print the plan of every statement of each page")
    parser.add_argument("--deep", type=int, default=DEEP, help="the deep page's number (default 2,000)")
    args = parser.parse_args()
    globals()["DEEP"] = args.deep
    folder = args.keep or Path(tempfile.mkdtemp(prefix="intake-bench-staff-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {machine()}\nDeep page: {args.deep:,}; {args.runs} rounds; through the Flask test client")
    results = {}
    sizes = [int(r) for r in args.rows.split(",")]
    for kind in args.db.split(","):
        funcs, apps = {}, []
        for rows in sizes:
            print(f"\n{kind}, {rows:,} submissions (load average {os.getloadavg()[0]:.2f})")
            app = prepare(kind, rows, folder)
            apps.append(app)
            if kind == "postgresql":
                with app.extensions["intake.store"].engine.connect() as conn:
                    print(f"  {conn.exec_driver_sql('SELECT version()').scalar().split(' on ')[0]}")
            from intake import export

            with app.app_context():
                today = export.clinic_today()
            client, target = sign_in(app), targets(app)
            pages_of, deep_id = pages(app, client, today, target)
            raw = raw_runner(app, raw_statements(app, today, target, deep_id))
            if args.explain:
                for label, run in pages_of.items():
                    print(f"   {label}:")
                    explain(app, client, run)
            funcs |= {(rows, label): run for label, run in pages_of.items()}
            funcs |= {(rows, f"raw: {label}"): run for label, run in raw.items()}
        # Both sizes in the same rounds, interleaved: a change in the machine's load touches both alike.
        print(f"\n  measuring {args.runs} rounds of both sizes, interleaved (load average {os.getloadavg()[0]:.2f})")
        timed = measure(args.runs, funcs)
        for rows in sizes:
            results[(kind, rows)] = mine = {label: t for (size, label), t in timed.items() if size == rows}
            print(f"\n{kind}, {rows:,} submissions")
            print(f"  {'':34}{'p50 ms':>9}{'p95 ms':>9}{'raw p50':>9}{'ratio':>9}")
            for label, times in mine.items():
                if label.startswith("raw: "):
                    continue
                line = f"  {label:34}{p50(times):9.1f}{p95(times):9.1f}"
                if base := mine.get(f"raw: {label}"):
                    line += f"{p50(base):9.2f}{p50(times) / p50(base):9.1f}"
                print(line)
        print(f"  (load average after measuring: {os.getloadavg()[0]:.2f})")
        for app in apps:
            app.extensions["intake.store"].engine.dispose()
    if not args.keep:  # a throwaway run leaves nothing behind
        _remove(folder, args.db.split(","), sizes)
    if len(sizes) == 2:
        print(f"\nGrowth of p50 from {sizes[0]:,} to {sizes[1]:,} submissions (target < 2x):")
        for kind in args.db.split(","):
            small, big = results.get((kind, sizes[0])), results.get((kind, sizes[1]))
            if small and big:
                print(f"  {kind}: " + ", ".join(f"{label.split('“')[0].strip()} {p50(big[label]) / p50(small[label]):.2f}x"
                                              for label in big if not label.startswith(("raw", "floor"))))


if __name__ == "__main__":
    main()
