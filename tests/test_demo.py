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
