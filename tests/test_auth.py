"""Staff accounts and sign-in: argon2id, the CLI, sessions on the server, idle logout, lockout."""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from intake import auth
from intake.models import StaffSession, StaffUser, utcnow
from tests.staff_support import PASSWORD, actions, as_role, csrf, login, make_user, post, users  # noqa: F401


def _user(app, email):
    with app.extensions["intake.store"].reading() as session:
        return session.scalar(select(StaffUser).where(StaffUser.email == email))


def _sessions(app):
    with app.extensions["intake.store"].reading() as session:
        return list(session.scalars(select(StaffSession)))


def test_create_staff_hashes_with_argon2id(app, runner, monkeypatch):
    monkeypatch.setenv("INTAKE_PASSWORD", PASSWORD)
    result = runner.invoke(args=["create-staff", "Dr.Chen@Clinic.test", "--role", "physician"])
    assert result.exit_code == 0, result.output
    user = _user(app, "dr.chen@clinic.test")
    assert user.role == "physician" and user.active
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_create_staff_prompts_when_no_env(app, runner, monkeypatch):
    monkeypatch.delenv("INTAKE_PASSWORD", raising=False)
    result = runner.invoke(args=["create-staff", "desk@clinic.test", "--role", "staff"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert _user(app, "desk@clinic.test").role == "staff"


@pytest.mark.parametrize(("email", "role", "password", "message"), [
    ("a@clinic.test", "staff", "short", "at least 12 characters"),
    ("not-an-email", "staff", PASSWORD, "valid email"),
    ("a@clinic.test", "owner", PASSWORD, "Invalid value for '--role'"),
])
def test_create_staff_refuses_bad_input(runner, monkeypatch, email, role, password, message):
    monkeypatch.setenv("INTAKE_PASSWORD", password)
    result = runner.invoke(args=["create-staff", email, "--role", role])
    assert result.exit_code != 0
    assert message in result.output


def test_create_staff_refuses_duplicate_email(app, runner, monkeypatch):
    monkeypatch.setenv("INTAKE_PASSWORD", PASSWORD)
    assert runner.invoke(args=["create-staff", "a@clinic.test", "--role", "staff"]).exit_code == 0
    result = runner.invoke(args=["create-staff", "A@clinic.test", "--role", "admin"])
    assert result.exit_code != 0 and "already an account" in result.output


def test_demo_admin_prints_password_once_and_only_on_an_empty_database(app, runner):
    first = runner.invoke(args=["demo-admin"])
    assert first.exit_code == 0
    password = first.output.split("password:")[1].split()[0]
    assert login(app.test_client(), "admin@clinic.example", password).status_code == 302
    second = runner.invoke(args=["demo-admin"])
    assert "exist already" in second.output and password not in second.output


def test_login_starts_a_server_side_session_and_the_cookie_holds_only_its_id(app, client, users):
    response = login(client, users["physician"].email)
    assert response.status_code == 302 and response.location == "/staff/"
    cookie = client.get_cookie(auth.COOKIE, path="/staff")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax" and cookie.path == "/staff"
    (row,) = _sessions(app)
    assert row.id == auth.token_hash(cookie.value) != cookie.value  # only the hash is stored
    assert client.get("/staff/").status_code == 200


def test_every_login_gets_a_fresh_session_id(app, client, users):
    client.set_cookie(auth.COOKIE, "attacker-chosen-id", path="/staff")
    login(client, users["staff"].email)
    first = client.get_cookie(auth.COOKIE, path="/staff").value
    assert first != "attacker-chosen-id"
    login(client, users["staff"].email)
    assert client.get_cookie(auth.COOKIE, path="/staff").value != first


@pytest.mark.parametrize("email", ["staff@clinic.test", "nobody@clinic.test"])
def test_wrong_password_and_unknown_email_get_the_same_message(app, client, users, email):
    response = login(client, email, "wrong password!!")
    assert response.status_code == 401
    assert "do not match an account" in response.text
    assert client.get_cookie(auth.COOKIE, path="/staff") is None


def test_logout_revokes_the_session_so_a_replayed_cookie_is_refused(app, client, users):
    login(client, users["admin"].email)
    stolen = client.get_cookie(auth.COOKIE, path="/staff").value
    response = post(client, "/staff/logout")
    assert response.status_code == 302 and response.location == "/staff/login"
    assert client.get_cookie(auth.COOKIE, path="/staff") is None
    replay = app.test_client()
    replay.set_cookie(auth.COOKIE, stolen, path="/staff")
    refused = replay.get("/staff/")
    assert refused.status_code == 302 and refused.location.startswith("/staff/login")
    assert _sessions(app)[0].revoked_at is not None


def test_thirty_idle_minutes_sign_out(app, client, users):
    login(client, users["staff"].email)
    with app.extensions["intake.store"].writing() as session:
        session.execute(update(StaffSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=31)))
    response = client.get("/staff/drafts")
    assert response.status_code == 302 and response.location.startswith("/staff/login?next=/staff/drafts")
    page = client.get(response.location)
    assert "signed out after 30 minutes without activity" in page.text
    assert client.get("/staff/").status_code == 302  # the session is revoked, not just skipped
    assert "session_expired" in actions(app)


def test_activity_within_thirty_minutes_keeps_the_session(app, client, users):
    login(client, users["staff"].email)
    with app.extensions["intake.store"].writing() as session:
        session.execute(update(StaffSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=29)))
    assert client.get("/staff/drafts").status_code == 200
    assert utcnow() - _sessions(app)[0].last_seen_at < dt.timedelta(minutes=1)


def test_five_failures_lock_the_account_and_the_message_says_so(app, client, users):
    email = users["physician"].email
    for _ in range(4):
        assert "do not match" in login(client, email, "wrong password!!").text
    fifth = login(client, email, "wrong password!!")
    assert "locked for 15 more minutes after 5 failed sign-ins" in fifth.text
    # Even the right password is refused while locked.
    refused = login(client, email)
    assert refused.status_code == 401 and "locked" in refused.text
    with app.extensions["intake.store"].writing() as session:
        session.execute(update(StaffUser).where(StaffUser.email == email).values(locked_until=utcnow() - dt.timedelta(seconds=1)))
    assert login(client, email).status_code == 302
    assert actions(app).count("login_failed") == 6


def test_failures_older_than_fifteen_minutes_do_not_count(app, client, users):
    email = users["staff"].email
    for _ in range(4):
        login(client, email, "wrong password!!")
    with app.extensions["intake.store"].writing() as session:
        session.execute(update(StaffUser).where(StaffUser.email == email)
                        .values(first_failed_at=utcnow() - dt.timedelta(minutes=16)))
    assert "do not match" in login(client, email, "wrong password!!").text  # counted afresh, not the fifth
    assert login(client, email).status_code == 302


def test_a_deactivated_account_cannot_sign_in_and_its_sessions_end(app, users, as_role):
    staff = as_role("staff")
    admin = as_role("admin")
    post(admin, f"/staff/admin/users/{users['staff'].id}/active", {"active": "0"})
    assert staff.get("/staff/").status_code == 302
    assert "deactivated" in login(app.test_client(), users["staff"].email).text


def test_next_only_leads_inside_the_staff_workspace(app, client, users):
    response = login(client, users["staff"].email, next="https://evil.example/")
    assert response.location == "/staff/"
    client2 = app.test_client()
    assert login(client2, users["staff"].email, next="/staff/drafts").location == "/staff/drafts"


def test_an_expired_login_form_comes_back_with_a_kind_message(app, client, users):
    response = client.post("/staff/login", data={"csrf_token": "stale", "email": users["staff"].email, "password": PASSWORD})
    assert response.status_code == 400
    assert "expired. Please sign in again" in response.text
    assert users["staff"].email in response.text  # the email is kept


def test_an_expired_form_inside_the_workspace_changes_nothing_and_says_so(app, users, as_role):
    client = as_role("physician")
    submission_id = "00000000-0000-4000-8000-000000000000"
    response = client.post(f"/staff/submissions/{submission_id}/review", data={"csrf_token": "stale", "note": "x"})
    assert response.status_code == 302
    assert "expired, so nothing was changed" in client.get("/staff/").text


def test_a_one_time_password_must_be_changed_first(app, users, as_role):
    admin = as_role("admin")
    page = post(admin, f"/staff/admin/users/{users['physician'].id}/reset-password", page="/staff/admin/users")
    temporary = page.text.split('class="secret mono">')[1].split("<")[0]
    doctor = app.test_client()
    assert login(doctor, users["physician"].email).status_code == 401  # the old password is gone
    assert login(doctor, users["physician"].email, temporary).status_code == 302
    forced = doctor.get("/staff/")
    assert forced.status_code == 302 and forced.location == "/staff/account/password"
    form = doctor.get("/staff/account/password")
    changed = doctor.post("/staff/account/password", data={
        "csrf_token": csrf(form.text), "current_password": temporary,
        "new_password": "a brand new passphrase", "new_password_again": "a brand new passphrase"})
    assert changed.status_code == 302
    assert doctor.get("/staff/").status_code == 200
    assert login(app.test_client(), users["physician"].email, "a brand new passphrase").status_code == 302


def test_change_password_explains_what_went_wrong(app, users, as_role):
    client = as_role("staff")
    form = client.get("/staff/account/password")
    response = client.post("/staff/account/password", data={
        "csrf_token": csrf(form.text), "current_password": PASSWORD, "new_password": "short", "new_password_again": "short"})
    assert response.status_code == 422 and "at least 12 characters" in response.text


def test_make_user_helper_rejects_nothing_silently(app):
    assert make_user(app, "staff", "x@clinic.test").email == "x@clinic.test"
