"""Kiosk mode and shared devices in a real browser: the idle warning and reset with and without JavaScript, Back after
a reset, "Continue as …?", two-step sign-in set-up, and axe-core on every new page.

The app here has short limits (seconds, not minutes) so the timers can be watched; the server enforces the same ones.
"""

from __future__ import annotations

import re
import shutil

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import make_app
from tests.e2e.browsing import fill, next_page, press
from tests.e2e.conftest import SCREENSHOTS, LiveServer, screenshot
from tests.e2e.staffing import DESKTOP, PASSWORD, create_staff, sign_in
from tests.e2e.test_a11y import check
from tests.walk import PAGES, SECTIONS

pytestmark = pytest.mark.browser

KIOSK_IDLE, KIOSK_WARNING = 6, 4
TABLET = {"width": 810, "height": 1080}


@pytest.fixture(scope="module")
def server(tmp_path_factory, migrated_sqlite):
    folder = tmp_path_factory.mktemp("kiosk")
    shutil.copy(migrated_sqlite, folder / "intake.sqlite3")
    named = {"CLINIC_NAME": "Harbour Aesthetic Clinic"} if SCREENSHOTS else {}
    app = make_app(folder, f"sqlite:///{folder / 'intake.sqlite3'}", KIOSK_IDLE_SECONDS=KIOSK_IDLE,
                   KIOSK_WARNING_SECONDS=KIOSK_WARNING, KIOSK_THANKS_SECONDS=3, DRAFT_IDLE_MINUTES=0.05, **named)
    create_staff(app, "desk@clinic.example", "staff")
    create_staff(app, "admin@clinic.example", "admin")
    with LiveServer(app) as live:
        yield live
    app.extensions["intake.store"].engine.dispose()


def make_kiosk(new_context, server, *, javascript: bool = True) -> Page:
    """A front-desk member signs this browser in as a kiosk, as they would on the clinic's tablet."""
    page = new_context(javascript=javascript, viewport=TABLET).new_page()
    sign_in(page, server.url, "desk@clinic.example")
    page.get_by_role("link", name="Kiosk", exact=True).click()
    page.get_by_label("Name of this device").fill("Waiting room tablet")
    page.get_by_role("button", name="Start kiosk mode on this device").click()
    expect(page).to_have_url(re.compile(r"/$"))
    return page


def first_page(page: Page) -> None:
    press(page, "Start")
    expect(page).to_have_url(re.compile("/intake/about-you$"))
    fill(page, PAGES["about-you"])
    next_page(page, "/intake/medical-history")


def assert_start_screen_without_maria(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("button", name="Start", exact=True)).to_be_visible()
    content = page.content()
    for private in ("Maria", "López", "maria.lopez@example.com", "Continue as"):
        assert private not in content, private


def test_the_kiosk_warns_then_clears_the_patient_and_back_shows_nothing(server, new_context):
    page = make_kiosk(new_context, server)
    expect(page.get_by_role("link", name="Staff: leave kiosk mode")).to_be_visible()
    expect(page.locator(".staff-nav")).to_have_count(0)
    screenshot(page, "kiosk-start.png", full_page=True)
    first_page(page)
    expect(page.locator("#resume-url")).to_have_count(0)
    expect(page.get_by_role("button", name="Email me the link")).to_be_visible()

    warning = page.get_by_role("alertdialog", name="Are you still there?")
    expect(warning).to_be_visible(timeout=(KIOSK_IDLE + 5) * 1000)
    expect(page.get_by_role("button", name="I'm still here")).to_be_focused()
    screenshot(page, "kiosk-idle-warning.png")
    page.get_by_role("button", name="I'm still here").click()
    expect(warning).to_be_hidden()
    expect(page).to_have_url(re.compile("/intake/medical-history$"))  # still here, answers intact

    # Then nobody touches it: the warning comes back, and the tablet clears itself.
    expect(page).to_have_url(re.compile(r"/$"), timeout=(KIOSK_IDLE + 10) * 1000)
    assert_start_screen_without_maria(page)
    page.go_back()
    page.wait_for_load_state()
    assert_start_screen_without_maria(page)
    page.goto(server.url + "/intake/about-you")
    assert_start_screen_without_maria(page)


def test_without_javascript_the_kiosk_still_clears_itself(server, new_context):
    page = make_kiosk(new_context, server, javascript=False)
    first_page(page)
    # The no-script refresh lands on the reset page; the server forgets the patient there.
    expect(page).to_have_url(re.compile(r"/$"), timeout=(KIOSK_IDLE + 10) * 1000)
    assert_start_screen_without_maria(page)
    page.go_back()
    page.wait_for_load_state()
    assert "Maria" not in page.content()


def test_after_a_submit_the_kiosk_returns_to_its_start_screen(server, new_context):
    page = make_kiosk(new_context, server)
    first_page(page)
    for section_id, following in zip(SECTIONS[1:], [*SECTIONS[2:], "photos"], strict=True):
        fill(page, PAGES[section_id])
        next_page(page, f"/intake/{following}")
    next_page(page, "/intake/review")  # the optional photos page, skipped
    page.get_by_role("link", name="Continue to consent and signature").click()
    fill(page, PAGES["consent"])
    press(page, "Sign and submit")
    expect(page).to_have_url(re.compile("/intake/thanks$"))
    expect(page.locator(".reference")).to_have_text(re.compile(r"[A-Z0-9]{3}-[A-Z0-9]{3}"))
    expect(page).to_have_url(re.compile(r"/$"), timeout=15_000)
    assert_start_screen_without_maria(page)
    page.go_back()
    page.wait_for_load_state()
    assert "Maria" not in page.content() and "López" not in page.content()


def test_a_shared_browser_offers_the_form_by_first_name_only(server, new_context):
    page = new_context().new_page()
    page.goto(server.url + "/")
    first_page(page)
    page.wait_for_timeout(5000)  # the patient walks away (this app locks after 3 idle seconds)
    page.goto(server.url + "/")
    expect(page.get_by_role("heading", name="Continue as Maria?")).to_be_visible()
    expect(page.get_by_role("button", name="Not you? Start a new form")).to_be_visible()
    assert "López" not in page.content() and "maria.lopez" not in page.content()
    screenshot(page, "shared-device-continue-as.png", full_page=True)
    page.get_by_label("Date of birth").fill(PAGES["about-you"]["date_of_birth"])
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page).to_have_url(re.compile("/intake/medical-history$"))


def test_two_step_sign_in_set_up_in_the_browser(server, new_context):
    page = new_context(viewport=DESKTOP).new_page()
    sign_in(page, server.url, "admin@clinic.example")
    page.get_by_role("link", name="admin@clinic.example").click()  # the account page: password and two-step sign-in
    page.get_by_role("link", name="Set up two-step sign-in").click()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    screenshot(page, "mfa-enrolment.png", full_page=True)
    secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
    page.get_by_label("Type the 6-digit code the app shows").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", name="Two-step sign-in is on")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    screenshot(page, "mfa-recovery-codes.png", full_page=True)


def test_the_new_pages_pass_axe(server, new_context):
    problems: dict[str, list[str]] = {}
    patient = new_context().new_page()
    patient.goto(server.url + "/privacy")
    check(patient, "privacy notice", problems)
    patient.goto(server.url + "/")
    first_page(patient)
    patient.wait_for_timeout(5000)
    patient.goto(server.url + "/")
    check(patient, "continue as (shared device)", problems)

    kiosk = make_kiosk(new_context, server)
    check(kiosk, "kiosk start", problems)
    first_page(kiosk)
    check(kiosk, "kiosk page with the e-mail box", problems)
    expect(kiosk.get_by_role("alertdialog")).to_be_visible(timeout=(KIOSK_IDLE + 5) * 1000)
    check(kiosk, "kiosk idle warning", problems)
    kiosk.get_by_role("button", name="I'm still here").click()

    staff = new_context(viewport=DESKTOP).new_page()
    staff.goto(server.url + "/staff/login")
    staff.get_by_label("Email").fill("desk@clinic.example")
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Sign in").click()
    for name, path in [("staff kiosk", "/staff/kiosk/"), ("staff two-step set-up", "/staff/account/two-step")]:
        staff.goto(server.url + path)
        check(staff, name, problems)
    secret = staff.locator("#mfa-secret").inner_text().replace(" ", "")
    staff.get_by_label("Type the 6-digit code the app shows").fill(pyotp.TOTP(secret).now())
    staff.get_by_role("button", name="Turn on two-step sign-in").click()
    check(staff, "staff recovery codes", problems)
    staff.goto(server.url + "/staff/export")
    check(staff, "staff export, front desk", problems)
    signed_out = new_context(viewport=DESKTOP).new_page()
    signed_out.goto(server.url + "/staff/login")
    signed_out.get_by_label("Email").fill("desk@clinic.example")
    signed_out.get_by_label("Password").fill(PASSWORD)
    signed_out.get_by_role("button", name="Sign in").click()
    expect(signed_out).to_have_url(re.compile("/staff/login/code$"))
    check(signed_out, "staff sign-in code", problems)
    assert not problems, problems
