"""Rate limits per address: a page for people with Retry-After, and the sign-in rule that protects accounts."""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

import uuid

import pytest

from intake import limits
from intake.models import StaffUser
from tests.conftest import hidden_fields
from tests.staff_support import PASSWORD, csrf, login, make_user


@pytest.fixture
def tight(app):
    app.config.update(RATELIMIT_START="3 per minute", RATELIMIT_LOGIN="4 per 15 minutes", RATELIMIT_RESUME="2 per minute")
    return app


def start(client):
    page = client.get("/")
    return client.post("/intake/start", data=hidden_fields(page.text))


def test_starting_forms_is_limited_per_address_with_a_page_for_people(tight):
    client = tight.test_client()
    assert [start(client).status_code for _ in range(3)] == [302, 302, 302]
    response = start(client)
    assert response.status_code == 429 and response.mimetype == "text/html"
    assert "Too many attempts" in response.text and "front desk" in response.text
    assert int(response.headers["Retry-After"]) > 0
    other_address = tight.test_client()
    assert start_from(other_address, "10.1.2.3").status_code == 302, "another address is not affected"


def start_from(client, address: str):
    page = client.get("/", environ_base={"REMOTE_ADDR": address})
    return client.post("/intake/start", data=hidden_fields(page.text), environ_base={"REMOTE_ADDR": address})


def test_the_limit_page_speaks_spanish_to_a_spanish_browser(tight):
    client = tight.test_client()
    headers = {"Accept-Language": "es"}
    for _ in range(3):
        client.post("/intake/start", data=hidden_fields(client.get("/", headers=headers).text), headers=headers)
    response = client.post("/intake/start", data=hidden_fields(client.get("/", headers=headers).text), headers=headers)
    assert response.status_code == 429 and "Demasiados intentos" in response.text


def test_resume_lookups_are_limited(tight):
    client = tight.test_client()
    codes = [client.get(f"/intake/resume/{uuid.uuid4().hex}").status_code for _ in range(3)]
    assert codes == [404, 404, 429]


def test_failed_sign_ins_are_limited_per_address_and_an_address_over_its_limit_cannot_lock_an_account(tight):
    victim = make_user(tight, "physician", "dr.victim@clinic.test")
    attacker = tight.test_client()
    # Four wrong guesses from one address: counted against the account (the fifth would lock it).
    assert [login(attacker, victim.email, "wrong password!").status_code for _ in range(4)] == [401] * 4
    # The address is now over its limit: a page for people, and the account is not touched.
    for _ in range(3):
        response = login(attacker, victim.email, "wrong password!")
        assert response.status_code == 429 and "Too many attempts from this network" in response.text
        assert "Retry-After" in response.headers
    with tight.extensions["intake.store"].reading() as session:
        account = session.get(StaffUser, victim.id)
        assert account.locked_until is None and account.failed_logins == 4
    # The physician, from the clinic's own address, still signs in.
    clinic = tight.test_client()
    page = clinic.get("/staff/login", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    response = clinic.post("/staff/login", environ_base={"REMOTE_ADDR": "10.9.9.9"},
                           data={"csrf_token": csrf(page.text), "email": victim.email, "password": PASSWORD})
    assert response.status_code == 302


def test_successful_sign_ins_do_not_count_against_the_clinic(tight):
    user = make_user(tight, "staff")
    for _ in range(6):
        client = tight.test_client()
        assert login(client, user.email).status_code == 302


def test_lockout_still_holds_per_account_below_the_address_limit(app):
    victim = make_user(app, "physician", "dr.lock@clinic.test")
    client = app.test_client()
    codes = [login(client, victim.email, "wrong password!").status_code for _ in range(5)]
    assert codes == [401] * 5
    assert "locked" in login(client, victim.email, PASSWORD).text


def test_exemptions_are_hookable(tight):
    check = limits.exempt_when(lambda: True)
    try:
        client = tight.test_client()
        assert {start(client).status_code for _ in range(6)} == {302}
    finally:
        limits._EXEMPTIONS.remove(check)
