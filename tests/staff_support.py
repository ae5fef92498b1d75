"""Helpers for the staff workspace tests: accounts per role, sign-in, stored submissions, audit rows."""

from __future__ import annotations

import copy
import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import select

from intake import accounts
from intake.models import AuditEvent
from intake.store import submissions
from tests.walk import EXPECTED

PASSWORD = "correct horse battery"
ROLES = ("staff", "physician", "admin")


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def make_user(app, role: str, email: str | None = None, password: str = PASSWORD):
    with app.app_context():
        return accounts.create_user(email or f"{role}@clinic.test", role, password)


def login(client, email: str, password: str = PASSWORD, **extra):
    page = client.get("/staff/login", follow_redirects=True)
    return client.post("/staff/login", data={"csrf_token": csrf(page.text), "email": email, "password": password, **extra})


def post(client, path: str, data: dict | None = None, page: str = "/staff/", **kwargs):
    """POST with a CSRF token taken from a staff page, as a browser would."""
    token = csrf(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


def add_submission(app, *, flags=None, visit: dt.date | None = None, **answers):
    data = copy.deepcopy(EXPECTED)
    data.update(answers)
    if visit is not None:
        data["visit_date"] = visit.isoformat()
    with app.app_context():
        submission, _ = submissions.submit(
            app.extensions["intake.store"], submit_token=uuid.uuid4().hex, questionnaire_id="consultation",
            questionnaire_version="1", answers=data, flags=flags or [],
        )
    return submission


def audit_rows(app) -> list[AuditEvent]:
    with app.extensions["intake.store"].reading() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def actions(app) -> list[str]:
    return [row.action for row in audit_rows(app)]


@pytest.fixture
def users(app):
    return {role: make_user(app, role) for role in ROLES}


@pytest.fixture
def as_role(app, users):
    """A test client signed in with the given role."""
    def sign_in(role: str):
        client = app.test_client()
        assert login(client, users[role].email).status_code == 302
        return client
    return sign_in


class FakePdf:
    """Stands in for WeasyPrint (intake.pdf.render_summary), so access and streaming tests do not depend on it."""

    def __init__(self):
        self.scheduled: list[str] = []
        self.rendered: list[str] = []
        self.failing: set[str] = set()

    def render_summary(self, submission):
        if submission.id in self.failing:
            raise RuntimeError("renderer down")
        self.rendered.append(submission.id)
        return b"%PDF-1.7 fake summary for " + submission.reference.encode() + b"\n" * 1000


@pytest.fixture
def fake_pdf(monkeypatch):
    from intake import pdf, renders

    fake = FakePdf()
    monkeypatch.setattr(pdf, "render_summary", fake.render_summary)
    real_fresh = renders.fresh
    monkeypatch.setattr(renders, "fresh", lambda submission: fake.scheduled.append(submission.id) or real_fresh(submission))
    return fake
