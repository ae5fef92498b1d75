"""At a million rows the dashboard must not read the table: every statement is served by an index.

Each test runs real dashboard requests (lists, searches, filters, pages by cursor, the counts) on both
databases, records every statement that reads `submissions`, and asks the database for its plan:
- SQLite (`EXPLAIN QUERY PLAN`): no `SCAN submissions` without an index, and an index read from end to
  end only under a LIMIT;
- PostgreSQL (`EXPLAIN (FORMAT JSON)` after `SET enable_seqscan = off`): no Seq Scan on submissions, and
  an index scan without an Index Cond only under a Limit. With a few test rows the planner rightly prefers
  a sequential scan, so the test turns that option off and asks whether an index path exists at all;
  bench/staff.py --explain prints the plans the planner chooses by itself at a million rows.
"""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import event, update

from intake.models import Submission
from intake.store import search
from tests.staff_support import add_submission, as_role, csrf, users  # noqa: F401

TODAY = dt.date.today()
STOP = {"rule_id": "pregnancy", "severity": "stop", "treatment": "both", "message": "Pregnant", "source": "pregnancy"}


@pytest.fixture
def app(any_app):
    """The staff fixtures (users, as_role) on both databases."""
    return any_app


def _statements(app, run) -> list[tuple[str, object]]:
    engine, seen = app.extensions["intake.store"].engine, []

    def record(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"\b(FROM|JOIN) submission(s|_names)\b", statement) and statement.lstrip().startswith("SELECT"):
            seen.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


# Partial indexes hold only the review backlog ("new"), not the table: reading one whole is fine.
BACKLOG = ("ix_submissions_new", "ix_submissions_new_stop")
BLOCKING = ("Sort", "Incremental Sort", "Aggregate", "Hash", "Materialize", "Unique", "WindowAgg")


def _sqlite_problems(conn, statement, parameters) -> list[str]:
    plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()  # (id, parent, _, detail)
    problems = [step for *_, step in plan if re.match(r"SCAN (submissions|submission_names)\b(?! USING)", step)]
    for _id, parent, _, step in plan:
        # Reading a whole index is fine only when a LIMIT stops it early, which a sort at the same level would not.
        sorted_first = any(p == parent and "TEMP B-TREE" in s for _, p, _, s in plan)
        whole = re.match(r"SCAN (submissions|submission_names) USING", step) and not re.search(
            rf"INDEX ({'|'.join(BACKLOG)})$", step)
        if whole and ("LIMIT" not in statement or sorted_first):
            problems.append(step)
    return problems


def _postgresql_problems(conn, statement, parameters) -> list[str]:
    """Problems of the best plan with sequential scans off; then with bitmap scans off too, as a tiny table
    makes a bitmap of a whole index look cheap. The statement passes if either plan reads only index ranges."""
    first = None
    for setting in ("SET enable_seqscan = off", "SET enable_bitmapscan = off"):
        conn.exec_driver_sql(setting)
        (plan,) = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).one()
        problems = _plan_problems((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
        if not problems:
            break
        first = first or problems
    conn.exec_driver_sql("RESET ALL")
    return first if problems else []


def _plan_problems(root: dict) -> list[str]:
    problems = []

    def walk(node, limited):
        if node["Node Type"] == "Bitmap Index Scan" and "Index Cond" not in node and node["Index Name"] not in BACKLOG:
            problems.append(f"whole {node['Index Name']} read into a bitmap")  # a sequential scan in disguise
        if node.get("Relation Name") == "submissions":
            if node["Node Type"] == "Seq Scan":
                problems.append("Seq Scan on submissions")
            elif (node["Node Type"] in ("Index Scan", "Index Only Scan") and "Index Cond" not in node and not limited
                  and node["Index Name"] not in BACKLOG):
                problems.append(f"whole {node['Index Name']} read with no Limit")
        # A Limit stops the scan under it early, unless something in between reads everything first.
        limited = node["Node Type"] == "Limit" or (limited and node["Node Type"] not in BLOCKING)
        for child in node.get("Plans", ()):
            walk(child, limited)
    walk(root, False)
    return problems


def assert_indexed(app, run) -> int:
    """Run `run`, then check the plan of each statement it sent about submissions; return how many."""
    statements = _statements(app, run)
    engine = app.extensions["intake.store"].engine
    check = _sqlite_problems if engine.dialect.name == "sqlite" else _postgresql_problems
    with engine.connect() as conn:
        for statement, parameters in statements:
            problems = check(conn, statement, parameters)
            assert not problems, f"{problems} in:\n{statement}"
        conn.rollback()
    return len(statements)


def _crowd(app, n: int = 5000) -> None:
    """n more patients, mostly reviewed past visits, so the planners weigh their options as with real data."""
    import uuid

    from sqlalchemy import insert, text

    from intake.models import utcnow

    first, last = ("maria", "james", "li", "sofia", "omar", "grace"), ("lopez", "nguyen", "smith", "okafor", "rossi")
    now = utcnow()
    rows = [{
        "id": str(uuid.UUID(int=i + 1)), "reference": f"Z{i:06d}", "submit_token": uuid.uuid4().hex,
        "questionnaire_id": "consultation", "questionnaire_version": "1", "answers": {"first_name": f"P{i}"},
        "answers_sha256": "0" * 64, "flags": [], "has_stop_flags": i % 17 == 0, "status": "new" if i % 40 == 0 else "reviewed",
        "language": "en", "patient_name": f"{first[i % 6]} {last[i // 6 % 5]}{i}", "date_of_birth": dt.date(1960, 1, 1)
        + dt.timedelta(days=i % 15000), "visit_date": TODAY - dt.timedelta(days=i // 3 - 20),
        "created_at": now - dt.timedelta(hours=i), "submitted_at": now - dt.timedelta(hours=i, days=3),
    } for i in range(n)]
    with app.extensions["intake.store"].writing() as session:
        session.execute(insert(Submission), rows)
        if session.get_bind().dialect.name == "postgresql":  # as autovacuum would have, on a clinic's server
            session.execute(text("SELECT gin_clean_pending_list('ix_submissions_name_trgm'::regclass)"))
            session.execute(text("ANALYZE submissions"))


@pytest.fixture
def clinic(app):
    """A few patients: visits today, coming and past, a stop flag, one reviewed, one without a visit date."""
    _crowd(app)
    made = [
        add_submission(app, first_name="Ana", last_name="García", visit=TODAY, date_of_birth="1990-02-03"),
        add_submission(app, last_name="Wu", visit=TODAY + dt.timedelta(days=3), flags=[STOP]),
        add_submission(app, last_name="Okafor", visit=TODAY - dt.timedelta(days=10)),
        add_submission(app, last_name="Smith", visit_date=None),
    ]
    with app.extensions["intake.store"].writing() as session:
        session.execute(update(Submission).where(Submission.id == made[2].id).values(status="reviewed"))
    return made


SEARCHES = [
    {}, {"q": "garcía"}, {"q": "ana garc"}, {"q": "wu"}, {"q": "1990-02-03"}, {"q": "2/3/1990"}, {"status": "new"},
    {"status": "reviewed"}, {"stop": "1"}, {"status": "new", "stop": "1"}, {"visit_from": TODAY.isoformat()},
    {"visit_to": (TODAY - dt.timedelta(days=1)).isoformat()}, {"q": "smith", "status": "new", "stop": "1"},
]


@pytest.mark.parametrize("broad", [False, True], ids=["few-matches", "many-matches"])
def test_every_dashboard_and_search_statement_is_served_by_an_index(app, as_role, clinic, monkeypatch, broad):
    if broad:  # the plan for searches with more matches than LIST_CAP: walk the order's indexes, name as a filter
        monkeypatch.setattr(search, "LIST_CAP", 0)
    client = as_role("staff")
    token = csrf(client.get("/staff/").text)
    fields = [*SEARCHES, {"q": clinic[1].reference}, {"q": clinic[0].reference.replace("-", "").lower()}]

    def run():
        for form in fields:
            assert client.post("/staff/", data={"csrf_token": token, **form}).status_code == 200
        assert client.get("/staff/?status=new&stop=1").status_code == 200

    assert assert_indexed(app, run) >= 3 * len(fields)


def test_pages_by_cursor_both_ways_and_the_counts_are_served_by_an_index(app, as_role, clinic, monkeypatch):
    from intake.web import staff as staff_views

    monkeypatch.setattr(staff_views, "PAGE_SIZE", 1)
    client = as_role("staff")
    token = csrf(client.get("/staff/").text)

    def run():
        html = client.get("/staff/").text
        for _ in range(3):  # forwards, from the coming visits into the past ones
            html = client.post("/staff/", data={"csrf_token": token, "cursor": _next(html)}).text
        client.post("/staff/", data={"csrf_token": token, "cursor": _previous(html)})
        search.counts(app.extensions["intake.store"], TODAY)

    assert assert_indexed(app, run) >= 20


def _next(html: str) -> str:
    return re.findall(r'name="cursor" value="([^"]*)"', html)[1]


def _previous(html: str) -> str:
    return re.findall(r'name="cursor" value="([^"]*)"', html)[0]


def test_the_plan_check_catches_a_table_scan(app, clinic):
    """The check is not vacuous: the old dashboard's statements fail it."""
    from sqlalchemy import case, func, select

    store = app.extensions["intake.store"]
    old_list = (select(Submission.id).order_by(case((Submission.visit_date >= TODAY, 0), else_=1),
                                               Submission.submitted_at.desc()).limit(25).offset(100))
    old_counts = select(func.sum(case((Submission.status == "new", 1), else_=0)))
    def run(statement):
        with store.reading() as session:
            session.execute(statement).all()

    for statement in (old_list, old_counts):
        with pytest.raises(AssertionError, match="Seq Scan on submissions|SCAN submissions|whole"):
            assert_indexed(app, lambda statement=statement: run(statement))
