"""The admin's user page: add, change role, deactivate, reset passwords; never lock the clinic out."""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

from sqlalchemy import select

from intake.models import StaffUser
from tests.staff_support import PASSWORD, actions, as_role, audit_rows, login, post, users  # noqa: F401

USERS = "/staff/admin/users"


def _get(app, email):
    with app.extensions["intake.store"].reading() as session:
        return session.scalar(select(StaffUser).where(StaffUser.email == email))


def test_add_an_account_with_a_chosen_password(app, as_role):
    admin = as_role("admin")
    data = {"email": "New.Nurse@clinic.test", "role": "physician", "password": "a long enough pass"}
    response = post(admin, USERS, data, page=USERS)
    assert response.status_code == 302
    assert "Added new.nurse@clinic.test as physician." in admin.get(USERS).text
    assert login(app.test_client(), "new.nurse@clinic.test", "a long enough pass").status_code == 302
    created = [r for r in audit_rows(app) if r.action == "user_created"][-1]
    assert created.detail["email"] == "new.nurse@clinic.test" and created.actor_email == "admin@clinic.test"


def test_add_an_account_with_a_one_time_password_shown_once(app, as_role):
    admin = as_role("admin")
    page = post(admin, USERS, {"email": "desk2@clinic.test", "role": "staff", "password": ""}, page=USERS).text
    temporary = page.split('class="secret mono">')[1].split("<")[0]
    assert len(temporary) == 19 and _get(app, "desk2@clinic.test").must_change_password
    assert temporary not in admin.get(USERS).text  # only in that one response
    assert login(app.test_client(), "desk2@clinic.test", temporary).status_code == 302


def test_adding_explains_a_bad_email_short_password_or_duplicate(app, as_role):
    admin = as_role("admin")
    for data, message in [
        ({"email": "nope", "role": "staff", "password": PASSWORD}, "valid email"),
        ({"email": "x@clinic.test", "role": "staff", "password": "short"}, "at least 12"),
        ({"email": "staff@clinic.test", "role": "staff", "password": PASSWORD}, "already an account"),
    ]:
        response = post(admin, USERS, data, page=USERS)
        assert response.status_code == 422 and message in response.text


def test_change_a_role(app, users, as_role):
    admin = as_role("admin")
    post(admin, f"{USERS}/{users['staff'].id}/role", {"role": "physician"}, page=USERS)
    assert _get(app, "staff@clinic.test").role == "physician"
    assert [r.detail for r in audit_rows(app) if r.action == "user_role_changed"][0]["to"] == "physician"


def test_the_last_admin_cannot_be_demoted_or_deactivated(app, users, as_role):
    admin = as_role("admin")
    response = post(admin, f"{USERS}/{users['admin'].id}/role", {"role": "staff"}, page=USERS)
    assert "last active administrator" in admin.get(response.location).text
    assert _get(app, "admin@clinic.test").role == "admin"
    response = post(admin, f"{USERS}/{users['admin'].id}/active", {"active": "0"}, page=USERS)
    assert "cannot deactivate your own account" in admin.get(response.location).text
    assert _get(app, "admin@clinic.test").active


def test_deactivate_and_reactivate(app, users, as_role):
    admin = as_role("admin")
    post(admin, f"{USERS}/{users['physician'].id}/active", {"active": "0"}, page=USERS)
    assert not _get(app, "physician@clinic.test").active
    assert "deactivated" in admin.get(USERS).text
    post(admin, f"{USERS}/{users['physician'].id}/active", {"active": "1"}, page=USERS)
    assert login(app.test_client(), "physician@clinic.test").status_code == 302
    assert actions(app).count("user_deactivated") == 1 and actions(app).count("user_activated") == 1


def test_reset_unlocks_a_locked_account(app, users, as_role):
    for _ in range(5):
        login(app.test_client(), "staff@clinic.test", "wrong password!!")
    admin = as_role("admin")
    assert "locked" in admin.get(USERS).text
    page = post(admin, f"{USERS}/{users['staff'].id}/reset-password", page=USERS)
    temporary = page.text.split('class="secret mono">')[1].split("<")[0]
    assert login(app.test_client(), "staff@clinic.test", temporary).status_code == 302


def test_an_account_that_no_longer_exists_is_explained(app, as_role):
    admin = as_role("admin")
    response = post(admin, f"{USERS}/9999/reset-password", page=USERS)
    assert "no longer exists" in admin.get(response.location).text
