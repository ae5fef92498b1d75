"""Staff two-step sign-in: enrolment with a QR code, TOTP sign-in, recovery codes, replay, lockout, admin controls."""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from intake import auth
from intake.models import StaffUser
from tests.staff_support import PASSWORD, actions, as_role, audit_rows, csrf, login, post, users  # noqa: F401

SECRET = re.compile(r'id="mfa-secret">([A-Z2-7 ]+)<')
ENROLLED_AT: dict[str, float] = {}  # secret -> when its confirming code was made


def enrol(client) -> tuple[str, list[str]]:
    """Set up two-step sign-in as a person would: read the key off the page, type the app's first code."""
    page = client.get("/staff/account/two-step").text
    assert 'src="data:image/svg+xml' in page  # the QR code, made on the server
    secret = SECRET.search(page).group(1).replace(" ", "")
    ENROLLED_AT[secret] = time.time()
    first_code = pyotp.TOTP(secret).at(ENROLLED_AT[secret])
    response = client.post("/staff/account/two-step", data={"csrf_token": csrf(page), "code": first_code})
    assert response.status_code == 200, response.text[:300]
    codes = re.findall(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>", response.text)
    return secret, codes


def next_code(secret: str) -> str:
    """The app's code for the next 30 seconds: the current one was spent confirming the enrolment."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def code_step(client, code: str):
    page = client.get("/staff/login/code")
    return client.post("/staff/login/code", data={"csrf_token": csrf(page.text), "code": code})


def user_row(app, email: str) -> StaffUser:
    with app.extensions["intake.store"].reading() as session:
        return session.scalar(select(StaffUser).where(StaffUser.email == email))


@pytest.fixture
def enrolled(app, users, as_role):
    """A physician with two-step sign-in on; returns (secret, recovery codes)."""
    client = as_role("physician")
    secret, codes = enrol(client)
    return secret, codes


def test_enrolment_shows_a_qr_code_and_the_key_and_needs_a_first_code(app, users, as_role):
    client = as_role("staff")
    page = client.get("/staff/account/two-step").text
    secret = SECRET.search(page).group(1).replace(" ", "")
    assert len(secret) == 32
    wrong = client.post("/staff/account/two-step", data={"csrf_token": csrf(page), "code": "000000"})
    assert wrong.status_code == 422 and "That code is not right" in wrong.text
    assert user_row(app, "staff@clinic.test").mfa_enabled_at is None
    # The same key stays until it is confirmed, so a person who mistyped can try again.
    assert SECRET.search(wrong.text).group(1).replace(" ", "") == secret
    done = client.post("/staff/account/two-step", data={"csrf_token": csrf(page), "code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<li>([a-z2-9-]{14})</li>", done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert user_row(app, "staff@clinic.test").mfa_enabled_at is not None
    assert "mfa_enrolled" in actions(app)


def test_the_secret_is_stored_sealed_and_the_codes_hashed(app, enrolled):
    secret, codes = enrolled
    # The app reads it back through the data keys; the database file holds only the sealed bytes.
    assert user_row(app, "physician@clinic.test").mfa_secret == secret
    database = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert secret.encode() not in raw
    assert not any(code.encode() in raw or code.replace("-", "").encode() in raw for code in codes)


def test_a_totp_sign_in_needs_the_password_then_the_code(app, enrolled):
    secret, _codes = enrolled
    client = app.test_client()
    response = login(client, "physician@clinic.test")
    assert response.status_code == 302 and response.location == "/staff/login/code"
    assert auth.COOKIE not in " ".join(response.headers.getlist("Set-Cookie"))  # no session yet
    assert client.get("/staff/").location.startswith("/staff/login")
    spent = pyotp.TOTP(secret).at(ENROLLED_AT[secret])
    assert code_step(client, spent).status_code == 401  # spent on the enrolment: a replay
    signed_in = code_step(client, next_code(secret))
    assert signed_in.status_code == 302 and signed_in.location == "/staff/"
    assert client.get("/staff/").status_code == 200
    assert audit_rows(app)[-2].action == "login" and audit_rows(app)[-2].detail == {"second_step": "totp"}


def test_a_code_used_once_is_refused_the_second_time(app, enrolled, monkeypatch):
    secret, _codes = enrolled
    code = next_code(secret)
    first = app.test_client()
    login(first, "physician@clinic.test")
    assert code_step(first, code).location == "/staff/"
    second = app.test_client()  # someone who saw the code over the shoulder
    login(second, "physician@clinic.test")
    replay = code_step(second, code)
    assert replay.status_code == 401 and "already used" in replay.text
    assert [r.detail.get("reason") for r in audit_rows(app) if r.action == "login_failed"] == ["replayed code"]
    # Half a minute later the app shows a new code, and that one works.
    from intake.mfa import service

    later = service.utcnow() + dt.timedelta(seconds=30)
    monkeypatch.setattr(service, "utcnow", lambda: later)
    assert code_step(second, pyotp.TOTP(secret).at(time.time() + 60)).location == "/staff/"


def test_a_recovery_code_works_once(app, enrolled):
    _secret, codes = enrolled
    client = app.test_client()
    login(client, "physician@clinic.test")
    response = code_step(client, codes[3].upper().replace("-", " "))  # typed loosely
    assert response.location == "/staff/"
    assert "recovery code; 9 left" in client.get("/staff/").text
    again = app.test_client()
    login(again, "physician@clinic.test")
    assert code_step(again, codes[3]).status_code == 401
    assert "mfa_recovery_used" in actions(app)


def test_code_failures_count_toward_the_lockout(app, enrolled):
    secret, _codes = enrolled
    client = app.test_client()
    for _ in range(2):
        login(client, "physician@clinic.test", password="not the password")
    login(client, "physician@clinic.test")
    for _ in range(2):
        assert code_step(client, "123456").status_code == 401
    locked = code_step(client, "654321")
    assert "locked for 15 more minutes" in locked.text
    # Locked: even the right code and the right password are refused now.
    assert "locked" in code_step(client, pyotp.TOTP(secret).now()).text
    assert "locked" in login(app.test_client(), "physician@clinic.test").text
    assert user_row(app, "physician@clinic.test").locked_until is not None


def test_a_right_password_does_not_reset_the_code_failures(app, enrolled):
    client = app.test_client()
    for _ in range(4):
        login(client, "physician@clinic.test")
        code_step(client, "111111")
    login(client, "physician@clinic.test")
    assert "locked" in code_step(client, "222222").text


def test_the_code_step_expires(app, enrolled, monkeypatch):
    secret, _codes = enrolled
    client = app.test_client()
    login(client, "physician@clinic.test")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 6 * 60)
    response = client.get("/staff/login/code")
    assert response.location == "/staff/login"


def test_an_admin_can_require_two_step_sign_in_for_everyone(app, users, as_role):
    admin = as_role("admin")
    post(admin, "/staff/admin/require-two-step", {"required": "1"})
    assert admin.get("/staff/admin/users").location == "/staff/account/two-step"  # the admin too, first
    enrol(admin)
    assert "required for every account" in admin.get("/staff/admin/users").text
    client = app.test_client()
    assert login(client, "staff@clinic.test").location == "/staff/"  # the password, then straight to set-up
    response = client.get("/staff/")
    assert response.location == "/staff/account/two-step"
    assert client.get("/staff/export").location == "/staff/account/two-step"
    enrol(client)
    assert client.get("/staff/").status_code == 200
    (event,) = [r for r in audit_rows(app) if r.action == "mfa_required_changed"]
    assert event.detail == {"required": True} and event.actor_email == "admin@clinic.test"
    # From now on the front desk signs in with a code too.
    assert login(app.test_client(), "staff@clinic.test").location == "/staff/login/code"


def test_an_admin_resets_a_lost_phone_and_it_is_audited(app, users, as_role, enrolled):
    admin = as_role("admin")
    post(admin, f"/staff/admin/users/{users['physician'].id}/reset-two-step")
    row = user_row(app, "physician@clinic.test")
    assert row.mfa_secret is None and row.mfa_enabled_at is None
    (event,) = [r for r in audit_rows(app) if r.action == "mfa_reset"]
    assert event.detail["user_id"] == users["physician"].id
    assert login(app.test_client(), "physician@clinic.test").location == "/staff/"  # no code step any more


def test_only_admins_reset_or_require(app, users, as_role):
    for role in ("staff", "physician"):
        client = as_role(role)
        assert post(client, "/staff/admin/require-two-step", {"required": "1"}).status_code == 403
        assert post(client, f"/staff/admin/users/{users['staff'].id}/reset-two-step").status_code == 403


def test_new_recovery_codes_replace_the_old_ones(app, users, as_role):
    client = as_role("admin")
    _secret, old = enrol(client)
    page = client.get("/staff/account/two-step").text
    assert "<strong>10</strong> unused recovery codes" in page
    fresh = client.post("/staff/account/two-step/recovery-codes", data={"csrf_token": csrf(page)})
    new = re.findall(r"<li>([a-z2-9-]{14})</li>", fresh.text)
    assert len(new) == 10 and not set(new) & set(old)
    other = app.test_client()
    login(other, "admin@clinic.test")
    assert code_step(other, old[0]).status_code == 401
    assert code_step(other, new[0]).location == "/staff/"


def test_a_page_ticket_made_under_another_secret_key_does_not_open(app):
    from intake import sealing

    with app.app_context():
        made = sealing.ticket("draft-page", "token-7")
        assert sealing.open_ticket("draft-page", made)[0] == "token-7"
        assert sealing.open_ticket("other-use", made) is None
        app.config["SECRET_KEY"] = "another key"
        assert sealing.open_ticket("draft-page", made) is None


def test_the_operator_can_reset_two_step_sign_in_from_the_shell(app, enrolled, runner):
    result = runner.invoke(args=["reset-two-step", "Physician@Clinic.test"])
    assert result.exit_code == 0, result.output
    assert user_row(app, "physician@clinic.test").mfa_enabled_at is None
    (event,) = [r for r in audit_rows(app) if r.action == "mfa_reset"]
    assert event.actor_email == "cli"
    assert runner.invoke(args=["reset-two-step", "nobody@clinic.test"]).exit_code != 0
