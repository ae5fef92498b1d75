"""The audit trail: exactly the actions performed, no patient data, append-only, and a chain that catches tampering."""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from intake import audit
from intake.store import audit as audit_store
from tests.staff_support import PASSWORD, add_submission, audit_rows, csrf, fake_pdf, login, make_user, post  # noqa: F401


def test_audit_rows_equal_exactly_the_actions_performed(app, fake_pdf):
    doctor = make_user(app, "physician", "dr@clinic.test")
    submission = add_submission(app)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.7"

    login(client, "dr@clinic.test", "not the password")
    login(client, "nobody@clinic.test", "not the password")
    login(client, "dr@clinic.test")
    client.get("/staff/")
    client.get(f"/staff/submissions/{submission.id}")
    client.get(f"/staff/submissions/{submission.id}.pdf")
    token = csrf(client.get("/staff/drafts").text)  # drafts hold no patient data: not an access to record
    client.post(f"/staff/submissions/{submission.id}/review", data={"csrf_token": token, "note": "Maria is fine"})
    client.get("/staff/export?format=csv")
    client.post("/staff/logout", data={"csrf_token": token})

    rows = audit_rows(app)
    assert [(r.action, r.actor_id, r.submission_id) for r in rows] == [
        ("user_created", None, None),
        ("submitted", None, submission.id),  # the patient's submit, committed with the submission
        ("login_failed", doctor.id, None),
        ("login_failed", None, None),
        ("login", doctor.id, None),
        ("list_viewed", doctor.id, None),
        ("submission_opened", doctor.id, submission.id),
        ("pdf_downloaded", doctor.id, submission.id),
        ("review", doctor.id, submission.id),
        ("export", doctor.id, None),
        ("logout", doctor.id, None),
    ]
    submitted = rows[1]
    assert (submitted.actor_email, submitted.ip) == ("patient", None), "the patient's address is not kept"
    assert submitted.detail == {"answers_sha256": submission.answers_sha256}, "the id and the hash, no answer"
    assert all(r.ip == "203.0.113.7" for r in rows[2:])
    assert rows[2].detail == {"reason": "password", "locked": False}
    assert rows[3].detail == {"reason": "unknown account"} and rows[3].actor_email is None
    assert rows[8].detail == {"with_note": True}
    assert rows[9].detail["count"] == 1
    assert audit.verify(app.extensions["intake.store"]).ok


def test_no_patient_data_lands_in_the_audit_trail(app, fake_pdf):
    make_user(app, "admin", "boss@clinic.test")
    submission = add_submission(app)
    client = app.test_client()
    login(client, "boss@clinic.test")
    token = csrf(client.get("/staff/").text)
    client.post("/staff/", data={"csrf_token": token, "q": "López"})
    client.post("/staff/", data={"csrf_token": token, "q": "1986-04-12"})
    client.get(f"/staff/submissions/{submission.id}")
    client.post(f"/staff/submissions/{submission.id}/review", data={"csrf_token": token, "note": "Maria: cold sores"})
    dumped = repr([(r.actor_email, r.action, r.detail, r.submission_id) for r in audit_rows(app)]).lower()
    secrets = ("maria", "lópez", "1986-04-12", "maria.lopez@example.com", "555 201", "cold sores", submission.reference)
    for secret in secrets:
        assert secret.lower() not in dumped


def test_verify_audit_passes_on_an_untouched_trail(app, runner):
    make_user(app, "admin")
    login(app.test_client(), "admin@clinic.test")
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 0 and "Audit trail intact: 2 rows" in result.output


def _untrigger(app):
    """An intruder with database access removes the guard first."""
    with app.extensions["intake.store"].engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("DROP TRIGGER audit_events_no_delete"))


def _busy_trail(app):
    make_user(app, "admin")
    for _ in range(3):
        login(app.test_client(), "admin@clinic.test")
    return [r.id for r in audit_rows(app)]


@pytest.mark.parametrize(("tamper", "row_reported"), [
    ("UPDATE audit_events SET action = 'list_viewed' WHERE id = 3", 3),
    ("UPDATE audit_events SET ip = '10.0.0.1' WHERE id = 2", 2),
    ("DELETE FROM audit_events WHERE id = 2", 3),
])
def test_verify_audit_catches_an_edited_or_deleted_row(app, runner, tamper, row_reported):
    _busy_trail(app)
    _untrigger(app)
    with app.extensions["intake.store"].engine.begin() as conn:
        conn.execute(text(tamper))
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 1
    assert f"row {row_reported}:" in result.output and "NOT intact" in result.output


def test_an_edit_that_recomputes_its_own_hash_still_breaks_the_chain(app, runner):
    _busy_trail(app)
    _untrigger(app)
    store = app.extensions["intake.store"]
    row = audit_rows(app)[1]
    row.action = "logout"
    forged = audit_store.row_hash(row)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET action = 'logout', hash = :h WHERE id = :id"), {"h": forged, "id": row.id})
    result = audit.verify(store)
    assert not result.ok and result.problems[0][0] == row.id + 1


def test_the_database_refuses_to_change_or_delete_audit_rows(any_app):
    make_user(any_app, "admin")
    engine = any_app.extensions["intake.store"].engine
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert len(audit_rows(any_app)) == 1


def test_concurrent_writers_keep_one_unbroken_chain(any_app):
    store = any_app.extensions["intake.store"]

    def write():
        for _ in range(15):
            with store.writing() as session:
                audit_store.append(session, action="list_viewed", actor_email="t@clinic.test", detail={"page": 1})

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = audit.verify(store)
    assert result.ok and result.count == 90


def test_the_admin_page_shows_the_trail_and_verifies_it(app):
    make_user(app, "admin")
    client = app.test_client()
    login(client, "admin@clinic.test")
    page = client.get("/staff/admin/audit")
    assert "Signed in" in page.text and "Added a staff account" in page.text
    verified = post(client, "/staff/admin/audit/verify", page="/staff/admin/audit")
    assert "The audit trail is intact" in verified.text
    filtered = client.get("/staff/admin/audit?action=login")
    assert "1 event." in filtered.text


def test_the_admin_page_raises_the_alarm_on_tampering(app):
    make_user(app, "admin")
    client = app.test_client()
    login(client, "admin@clinic.test")
    _untrigger(app)
    with app.extensions["intake.store"].engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET detail = '{}' WHERE id = 1"))
    verified = post(client, "/staff/admin/audit/verify", page="/staff/admin/audit")
    assert "has been tampered with" in verified.text and "Event 1:" in verified.text


def test_unknown_actions_are_refused(app):
    with app.app_context(), pytest.raises(ValueError, match="unknown audit action"):
        audit.record("coffee_break")


def test_password_is_never_recorded(app):
    make_user(app, "staff")
    login(app.test_client(), "staff@clinic.test", "my secret guess")
    assert "my secret guess" not in repr([(r.detail, r.actor_email) for r in audit_rows(app)])
    assert PASSWORD not in repr([r.detail for r in audit_rows(app)])
