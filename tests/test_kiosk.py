"""Kiosk mode: a staff member signs a tablet in; it shows only the patient form and forgets each patient."""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from intake import auth, kiosk
from intake.kiosk import devices
from intake.models import KioskDevice, OutboundMail
from intake.web import draft_access
from tests.conftest import Patient, hidden_fields
from tests.staff_support import actions, as_role, audit_rows, csrf, login, post, users  # noqa: F401
from tests.walk import PAGES, SECTIONS, walk_to_consent

IDLE = 180


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        offset = 0

        def later(self, seconds: int) -> None:
            self.offset += seconds

    clock = Clock()
    real = draft_access.now
    monkeypatch.setattr(draft_access, "now", lambda: real() + clock.offset)
    return clock


@pytest.fixture
def tablet(app, users, as_role):
    """A browser a front-desk member has just turned into a kiosk."""
    client = as_role("staff")
    page = client.get("/staff/kiosk/")
    response = client.post("/staff/kiosk/start", data={"csrf_token": csrf(page.text), "name": "Tablet by the window"})
    assert response.status_code == 302 and response.location == "/"
    cookies = " ".join(response.headers.getlist("Set-Cookie"))
    assert f"{devices.COOKIE}=" in cookies and "HttpOnly" in cookies and "SameSite=Strict" in cookies
    assert f"{auth.COOKIE}=;" in cookies  # the staff member is signed out on the tablet
    return client


def devices_rows(app) -> list[KioskDevice]:
    with app.extensions["intake.store"].reading() as session:
        return list(session.scalars(select(KioskDevice)))


def test_starting_a_kiosk_stores_only_a_hash_and_is_audited(app, tablet):
    (device,) = devices_rows(app)
    token = tablet.get_cookie(devices.COOKIE).value
    assert device.name == "Tablet by the window" and token not in device.token_hash and len(device.token_hash) == 64
    (event,) = [r for r in audit_rows(app) if r.action == "kiosk_started"]
    assert event.actor_email == "staff@clinic.test" and event.detail == {"device_id": device.id, "name": device.name}
    with app.test_request_context("/", headers={"Cookie": f"{devices.COOKIE}={token}"}):
        assert kiosk.is_kiosk_request()
    with app.test_request_context("/"):
        assert not kiosk.is_kiosk_request()


def test_a_kiosk_shows_no_resume_link_and_no_staff_pages(app, tablet):
    patient = Patient(tablet)
    patient.start()
    for section_id in SECTIONS:
        page = tablet.get(f"/intake/{section_id}").text
        assert "/intake/resume/" not in page and "Email me the link" in page
        patient.post(section_id, PAGES[section_id])
    assert "/intake/resume/" not in tablet.get("/intake/review").text
    # The tablet's browser must not remember her entries and offer them to the next patient.
    about = tablet.get("/intake/about-you").text
    assert 'autocomplete="given-name"' not in about and 'autocomplete="email"' not in about
    (first_name,) = re.findall(r'<input[^>]*id="first_name"[^>]*>', about)
    assert 'autocomplete="off"' in first_name
    for path in ("/staff/", "/staff/export?format=contacts", "/staff/kiosk/", "/staff/account/two-step"):
        assert tablet.get(path).location == "/", path
    assert "Signing in here ends kiosk mode" in tablet.get("/staff/login").text
    start = tablet.get("/").text
    assert "Staff: leave kiosk mode" in start and 'href="/staff/"' not in start


def test_the_resume_link_can_be_emailed_from_a_kiosk(app, tablet):
    patient = Patient(tablet)
    patient.start()
    patient.post("about-you", PAGES["about-you"])
    page = tablet.get("/intake/medical-history").text
    assert 'value="maria.lopez@example.com"' in page  # offered the address she typed
    response = tablet.post("/kiosk/email-link", data={"csrf_token": hidden_fields(page)["csrf_token"],
                                                      "link_email": "maria.lopez@example.com", "back": "/intake/medical-history"},
                           follow_redirects=True)
    assert "We will email a private link to m•••@example.com" in response.text
    with app.extensions["intake.store"].reading() as session:
        (request,) = session.scalars(select(OutboundMail))
    # Sent by the mail job (here: no SMTP server, so a .eml file in the instance's mail folder).
    assert (request.kind, request.address, request.status) == ("resume_link", "maria.lopez@example.com", "sent")
    (eml,) = (Path(app.instance_path) / "mail").glob("*.eml")
    assert "/intake/resume/" in eml.read_text() and "maria" not in eml.name
    bad = tablet.post("/kiosk/email-link", data={"csrf_token": hidden_fields(page)["csrf_token"], "link_email": "maria at home",
                                                 "back": "/intake/medical-history"}, follow_redirects=True)
    assert "Please enter an email address" in bad.text


def test_after_a_submit_the_kiosk_forgets_the_patient(app, tablet):
    patient = Patient(tablet)
    walk_to_consent(patient)
    consent = tablet.get("/intake/consent").text
    response = tablet.post("/intake/consent", data={**hidden_fields(consent), **PAGES["consent"], "action": "next"})
    assert response.location == "/intake/thanks"
    thanks = tablet.get("/intake/thanks").text
    assert re.search(r'class="reference">[A-Z0-9]{3}-[A-Z0-9]{3}<', thanks)
    assert '<meta http-equiv="refresh" content="20;url=/">' in thanks
    # Reload, Back, or any form page: the next person finds the start screen, and nothing of Maria.
    assert tablet.get("/intake/thanks").location == "/"
    for path in ("/intake/about-you", "/intake/review", "/intake/consent"):
        response = tablet.get(path, follow_redirects=True)
        assert response.request.path == "/" and "Maria" not in response.text and "López" not in response.text
    start = tablet.get("/").text
    assert "Continue" not in start and "Start" in start


def test_after_three_idle_minutes_the_server_clears_the_kiosk_without_javascript(app, tablet, clock):
    patient = Patient(tablet)
    patient.start()
    patient.post("about-you", PAGES["about-you"])
    page = tablet.get("/intake/medical-history").text
    # The page clears itself without script, and the server agrees with it.
    assert f'<noscript><meta http-equiv="refresh" content="{IDLE};url=/kiosk/reset"></noscript>' in page
    assert f'data-kiosk-idle="{IDLE}"' in page
    clock.later(IDLE + 1)
    response = tablet.get("/intake/medical-history", follow_redirects=True)
    assert response.request.path == "/"
    assert "Maria" not in response.text and "Continue as" not in response.text
    # The stale page cannot write into the form it came from, and the form is still on the server.
    stale = tablet.post("/intake/medical-history", data={**hidden_fields(page), **PAGES["medical-history"],
                                                         "csrf_token": hidden_fields(tablet.get("/").text)["csrf_token"]},
                        follow_redirects=True)
    assert "closed on this device" in stale.text


def test_the_javascript_reset_clears_at_once_and_pings_say_when_the_patient_is_gone(app, tablet, clock):
    patient = Patient(tablet)
    patient.start()
    token = hidden_fields(tablet.get("/intake/about-you").text)["csrf_token"]
    assert tablet.post("/kiosk/still-here", headers={"X-CSRFToken": token}).status_code == 204
    clock.later(IDLE - 10)
    assert tablet.post("/kiosk/still-here", headers={"X-CSRFToken": token}).status_code == 204  # "I'm still here"
    clock.later(IDLE - 10)
    assert tablet.get("/intake/about-you").status_code == 200  # kept alive by the pings
    assert tablet.get("/kiosk/reset").location == "/"
    assert tablet.get("/intake/about-you").location == "/"
    fresh = hidden_fields(tablet.get("/").text)["csrf_token"]
    assert tablet.post("/kiosk/still-here", headers={"X-CSRFToken": fresh}).status_code == 409


def test_leaving_kiosk_mode_needs_a_staff_sign_in(app, tablet):
    assert login(tablet, "staff@clinic.test", password="not the password").status_code == 401
    assert devices_rows(app)[0].revoked_at is None
    response = login(tablet, "physician@clinic.test")
    assert response.location == "/staff/"
    assert f"{devices.COOKIE}=;" in " ".join(response.headers.getlist("Set-Cookie"))
    assert devices_rows(app)[0].revoked_at is not None
    (event,) = [r for r in audit_rows(app) if r.action == "kiosk_ended"]
    assert event.actor_email == "physician@clinic.test" and event.detail["how"] == "signed in"
    assert tablet.get("/staff/").status_code == 200


def test_leaving_kiosk_mode_with_two_step_sign_in_needs_the_code_too(app, tablet, as_role):
    import pyotp

    from tests.test_mfa import code_step, enrol

    secret, _codes = enrol(as_role("admin"))
    login(tablet, "admin@clinic.test")
    assert devices_rows(app)[0].revoked_at is None  # the password alone does not end kiosk mode
    assert code_step(tablet, "000000").status_code == 401
    assert devices_rows(app)[0].revoked_at is None
    assert code_step(tablet, pyotp.TOTP(secret).at(__import__("time").time() + 30)).location == "/staff/"
    assert devices_rows(app)[0].revoked_at is not None


def test_an_admin_revokes_a_kiosk(app, tablet, as_role):
    (device,) = devices_rows(app)
    admin = as_role("admin")
    assert "Tablet by the window" in admin.get("/staff/kiosk/").text
    assert "Tablet by the window" not in as_role("physician").get("/staff/kiosk/").text  # the list is for admins
    # A page left open too long: nothing is revoked, and the admin is back on the kiosk list, told why.
    stale = admin.post(f"/staff/kiosk/{device.id}/revoke", data={"csrf_token": "stale"})
    assert stale.status_code == 302 and stale.location == "/staff/kiosk/", "its list, not the POST-only address"
    assert "expired, so nothing was changed" in admin.get(stale.location).text
    assert devices_rows(app)[0].revoked_at is None
    post(admin, f"/staff/kiosk/{device.id}/revoke", page="/staff/kiosk/")
    assert devices_rows(app)[0].revoked_at is not None
    assert actions(app).count("kiosk_ended") == 1
    # The tablet is an ordinary browser again: the resume link shows, staff pages ask for a sign-in.
    Patient(tablet).start()
    assert "/intake/resume/" in tablet.get("/intake/about-you").text
    assert tablet.get("/staff/").location.startswith("/staff/login")


def test_kiosk_rows_settings_and_recovery_codes_work_on_both_databases(any_app):
    from intake import accounts
    from intake.models import utcnow
    from intake.store import kiosks, settings
    from intake.store import staff as staff_store

    store = any_app.extensions["intake.store"]
    with any_app.app_context():
        user = accounts.create_user("desk@clinic.test", "staff", "correct horse battery")
        with store.writing() as session:
            first = kiosks.add(session, "a" * 64, "Front desk", user.id)
            kiosks.add(session, "b" * 64, "Waiting room", user.id)
            kiosks.revoke(session, first.id)
            assert kiosks.revoke(session, first.id) is None  # only once
            assert settings.put(session, "require_mfa", True) is None
            staff_store.replace_recovery_codes(session, user.id, ["h1", "h2"], utcnow())
        assert [d.name for d, _by in kiosks.listing(store)] == ["Waiting room", "Front desk"]  # active first
        assert settings.get(store, "require_mfa") is True and settings.get(store, "missing", 7) == 7
        assert staff_store.count_recovery_codes(store, user.id) == 2
        with store.writing() as session:
            row = session.get(type(user), user.id)
            row.mfa_secret = "JBSWY3DPEHPK3PXP"
        assert staff_store.get_user(store, user.id).mfa_secret == "JBSWY3DPEHPK3PXP"


def test_a_kiosk_is_not_rate_limited_as_a_patient_but_its_staff_sign_in_is(app, tablet):
    app.config.update(RATELIMIT_START="2 per minute", RATELIMIT_LOGIN="2 per 15 minutes")
    # A waiting room starts many forms from one address and one tablet: never a 429 page for a patient.
    for _ in range(4):
        page = tablet.get("/")
        assert tablet.post("/intake/start", data=hidden_fields(page.text)).status_code == 302
        tablet.post("/kiosk/reset", data=hidden_fields(tablet.get("/").text))
    # An ordinary browser at the same address is limited.
    other = app.test_client()
    codes = [other.post("/intake/start", data=hidden_fields(other.get("/").text)).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    # Guessing staff passwords from the tablet in the waiting room is limited like anywhere else.
    codes = [login(tablet, "staff@clinic.test", "wrong password!!").status_code for _ in range(3)]
    assert codes == [401, 401, 429]
