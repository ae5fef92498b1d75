"""No patient data in the session cookie, in URLs or in logs."""

from __future__ import annotations

import json
import logging

from flask.sessions import SecureCookieSessionInterface

from intake.redact import RedactResumeTokens
from tests.walk import PAGES, walk_to_consent


def decoded_session(app, client) -> dict:
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return serializer.loads(client.get_cookie("intake_session").value)


def test_session_cookie_holds_no_answers(app, patient):
    walk_to_consent(patient)
    session = decoded_session(app, patient.client)
    text = json.dumps(session, default=str)
    for value in ("Maria", "López", "maria.lopez@example.com", "1986-04-12", "Levothyroxine", "Penicillin"):
        assert value not in text
    assert set(session) <= {"draft", "draft_seen", "forgotten", "kiosk_seen", "csrf_token", "lang", "submitted", "_permanent"}


def test_no_answer_ever_appears_in_a_url(app, patient, caplog):
    caplog.set_level(logging.INFO)
    walk_to_consent(patient)
    response = patient.post("consent", PAGES["consent"])
    assert response.location == "/intake/thanks"
    review = patient.client.get("/intake/review")
    for href in review.text.split('href="')[1:]:
        assert "Maria" not in href.split('"')[0]


def test_resume_tokens_are_redacted_from_access_logs():
    record = logging.LogRecord("werkzeug", logging.INFO, "", 0, '%s - - "%s" %s', (
        "127.0.0.1", "GET /intake/resume/AbC123_secret-token HTTP/1.1", "302"), None)
    RedactResumeTokens().filter(record)
    assert "AbC123_secret-token" not in record.getMessage()
    assert "/intake/resume/[redacted]" in record.getMessage()


def test_unexpected_errors_log_no_request_data(app, patient, caplog, monkeypatch):
    from intake.store import drafts

    def explode(token, answers, *args, **kwargs):
        raise ValueError(f"{answers['first_name']} {answers['date_of_birth']}")  # a message carrying patient data

    patient.start()
    monkeypatch.setattr(drafts, "save", explode)
    response = patient.post("about-you", PAGES["about-you"])
    assert response.status_code == 500
    assert "Your answers so far are saved" in response.text and "Traceback" not in response.text
    assert "Maria" not in caplog.text and "1986-04-12" not in caplog.text and "ValueError" in caplog.text


def test_behind_a_trusted_proxy_the_client_ip_comes_from_its_header(tmp_path, migrated_sqlite):
    import shutil

    from flask import request

    from tests.conftest import make_app

    shutil.copy(migrated_sqlite, tmp_path / "intake.sqlite3")
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'intake.sqlite3'}", TRUSTED_PROXIES=1)
    seen = []
    app.before_request(lambda: seen.append(request.remote_addr))
    app.test_client().get("/healthz", headers={"X-Forwarded-For": "203.0.113.7"})
    assert seen == ["203.0.113.7"]
    app.extensions["intake.store"].engine.dispose()
