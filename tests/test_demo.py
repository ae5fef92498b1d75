"""Demo data: varied, reproducible, and answers the real form would accept."""

from __future__ import annotations

from sqlalchemy import func, select

from intake import demo
from intake.forms import section_errors
from intake.models import Submission


def test_generated_answers_pass_the_forms_own_validation(app):
    q = app.extensions["intake.questionnaire"]
    with app.test_request_context():
        for answers in demo.generate(40, seed=3):
            assert section_errors(q, answers) == {}


def test_generation_is_reproducible_and_varied():
    first = list(demo.generate(20, seed=11))
    assert first == list(demo.generate(20, seed=11))
    assert len({a["last_name"] for a in first}) > 5
    assert any(a["neurotoxin_ever"] for a in first) and not all(a["neurotoxin_ever"] for a in first)


def test_demo_data_command_inserts_screened_submissions(app):
    result = app.test_cli_runner().invoke(args=["demo-data", "25"])
    assert result.exit_code == 0, result.output
    assert "Created 25 demo submissions" in result.output
    with app.extensions["intake.store"].reading() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 25
        flags = session.scalars(select(Submission.flags)).all()  # encrypted: compared in Python, not in SQL
    assert sum(1 for f in flags if f) > 0



def test_references_avoid_every_stored_one_and_each_other(app, monkeypatch):
    """With only 2 x 2 x 2 = 8 references possible, batches collide with stored ones; none may be stored twice."""
    from intake.demo import history

    store = app.extensions["intake.store"]
    monkeypatch.setattr(history, "_reference", lambda rng: "Z{}{}-{}ZZ".format(*rng.choices("AB", k=3)))
    assert demo.insert(store, 3, batch_size=2) == 3 and demo.insert(store, 5, seed=8, batch_size=3) == 5
    with store.reading() as session:
        references = list(session.scalars(select(Submission.reference)))
    assert len(references) == len(set(references)) == 8


def test_demo_data_looks_like_a_clinic_over_time(app):
    import datetime as dt

    store = app.extensions["intake.store"]
    today = dt.date(2026, 6, 15)
    demo.insert(store, 400, seed=4, today=today)
    with store.reading() as session:
        rows = session.execute(select(Submission.status, Submission.visit_date, Submission.submitted_at)).all()
    past = [r for r in rows if r.visit_date and r.visit_date < today]
    coming = [r for r in rows if r.visit_date and r.visit_date > today]
    assert len(past) > 200 and sum(r.status == "reviewed" for r in past) / len(past) > 0.9
    assert coming and sum(r.status == "new" for r in coming) / len(coming) > 0.7
    # Each form is sent on the day of the visit or up to three weeks before it.
    assert all(0 <= (r.visit_date - r.submitted_at.date()).days <= 21 for r in rows if r.visit_date)
    assert min(r.submitted_at.date() for r in rows) < today - dt.timedelta(days=25)


def test_worker_processes_build_the_same_rows_as_this_one(app, monkeypatch):
    import datetime as dt

    from intake.demo import history

    now = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)
    alone = [row["id"] for rows in history._batches(3, 30, 10, now) for row in rows]
    monkeypatch.setattr(history, "PARALLEL_FROM", 10)  # two spawned worker processes
    together = [row["id"] for rows in history._batches(3, 30, 10, now) for row in rows]
    assert together == alone and len(set(alone)) == 30
