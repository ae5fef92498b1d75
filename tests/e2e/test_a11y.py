"""Accessibility in a real browser: axe-core on every page, labels, focus, and a page filled by keyboard alone.

axe-core comes from the axe-playwright-python package (it bundles axe.min.js), injected with Playwright.
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.conftest import AXE_RESULTS
from tests.e2e.browsing import fill, next_page, press
from tests.e2e.conftest import screenshot
from tests.e2e.staffing import DESKTOP, create_staff, sign_in, spanish_submission
from tests.walk import PAGES

pytestmark = pytest.mark.browser

BLOCKING = ("serious", "critical")
# WCAG 2.0/2.1 A and AA, plus axe's best practices (landmarks, headings), which we also keep clean.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
               "resultTypes": ["violations"]}
_axe = Axe()


def axe(page: Page, name: str) -> list[dict]:
    """Run axe-core on the page as it is now; the terminal summary lists what it found on each page."""
    violations = _axe.run(page, options=AXE_OPTIONS).response["violations"]
    AXE_RESULTS[name] = violations
    return violations


def describe(violations: list[dict]) -> list[str]:
    return [f"{v['impact']}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes'][:3]]}" for v in violations]


def check(page: Page, name: str, problems: dict[str, list[str]]) -> None:
    found = axe(page, name)
    if found:
        problems[name] = describe(found)


def test_every_patient_page_passes_axe(live_server, new_context):
    problems: dict[str, list[str]] = {}
    page = new_context().new_page()
    page.goto(live_server.url + "/")
    check(page, "start", problems)
    press(page, "Start")
    check(page, "about-you", problems)
    press(page, "Next")
    check(page, "about-you, with errors", problems)
    fill(page, PAGES["about-you"])
    next_page(page, "/intake/medical-history")
    fill(page, PAGES["medical-history"])
    check(page, "medical-history", problems)
    next_page(page, "/intake/neurotoxin")
    fill(page, PAGES["neurotoxin"])
    check(page, "neurotoxin, two rows", problems)
    next_page(page, "/intake/skin")
    fill(page, PAGES["skin"])
    check(page, "skin", problems)
    next_page(page, "/intake/photos")
    check(page, "photos", problems)
    next_page(page, "/intake/review")
    check(page, "review", problems)
    page.get_by_role("link", name="Continue to consent and signature").click()
    check(page, "consent", problems)
    press(page, "Sign and submit")
    check(page, "consent, with errors", problems)
    fill(page, PAGES["consent"])
    press(page, "Sign and submit")
    expect(page).to_have_url(re.compile("/intake/thanks$"))
    check(page, "thanks", problems)
    page.goto(live_server.url + "/intake/resume/no-such-token")
    check(page, "expired resume link", problems)
    page.goto(live_server.url + "/no-such-page")
    check(page, "not found", problems)

    spanish = new_context(language="es").new_page()
    spanish.goto(live_server.url + "/")
    expect(spanish.locator("html")).to_have_attribute("lang", "es")
    check(spanish, "start, Spanish", problems)
    press(spanish, "Empezar")
    press(spanish, "Siguiente")
    check(spanish, "about-you, Spanish, with errors", problems)

    assert not problems, problems



def test_every_staff_page_passes_axe(live_server, new_context):
    submission = spanish_submission(live_server.app, last_name="Quiñones")
    create_staff(live_server.app, "axe.admin@clinic.example", "admin")
    problems: dict[str, list[str]] = {}
    page = new_context(viewport=DESKTOP).new_page()
    page.goto(live_server.url + "/staff/login")
    check(page, "staff login", problems)
    page.get_by_label("Email").fill("axe.admin@clinic.example")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    check(page, "staff login, wrong password", problems)
    sign_in(page, live_server.url, "axe.admin@clinic.example")
    check(page, "staff dashboard", problems)
    for name, path in [("staff submission", f"/staff/submissions/{submission.id}"), ("staff drafts", "/staff/drafts"),
                       ("staff export", "/staff/export"), ("staff password", "/staff/account/password"),
                       ("staff users", "/staff/admin/users"), ("staff audit", "/staff/admin/audit"),
                       ("staff data protection", "/staff/admin/data-protection"),
                       ("staff erase", f"/staff/submissions/{submission.id}/erase")]:
        response = page.goto(live_server.url + path)
        assert response.status == 200, (path, response.status)
        check(page, name, problems)
    page.get_by_role("button", name="Erase for good").click()  # no reason, no reference: both errors shown
    check(page, "staff erase, with errors", problems)
    assert not problems, problems

def test_every_input_has_a_label_and_every_choice_group_a_fieldset_and_legend(live_server, page):
    page.goto(live_server.url + "/")
    press(page, "Start")
    for path in ("about-you", "medical-history", "neurotoxin", "skin", "photos", "consent"):
        page.goto(f"{live_server.url}/intake/{path}")
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
            .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
            .map(el => el.name || el.id)""")
        assert not unlabelled, (path, unlabelled)
        loose = page.evaluate("""() => [...document.querySelectorAll('input[type=radio], .options input[type=checkbox]')]
            .filter(el => { const set = el.closest('fieldset'); return !set || !set.querySelector(':scope > legend'); })
            .map(el => el.id)""")
        assert not loose, (path, loose)


def test_after_a_failed_submit_focus_is_on_the_error_summary(live_server, new_context):
    for javascript in (True, False):
        page = new_context(javascript=javascript).new_page()
        page.goto(live_server.url + "/")
        press(page, "Start")
        fill(page, {"first_name": "Ana", "email": "not an email"})
        press(page, "Next")
        # Without JavaScript, focus comes from the summary's autofocus attribute, which the browser applies
        # at its next rendering update, not necessarily by the time the load event has fired.
        page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'",
                               timeout=3000)
        assert page.evaluate("document.activeElement.id") == "error-summary", f"javascript={javascript}"
        summary = page.locator("#error-summary")
        expect(summary).to_contain_text("Please check these answers")
        expect(summary.get_by_role("link", name=re.compile(r"^Email\W+Please enter an email address"))).to_be_visible()
        if javascript:
            screenshot(page, "phone-errors-focus-on-summary.png")


def test_hints_and_errors_are_tied_to_their_fields(live_server, page):
    page.goto(live_server.url + "/")
    press(page, "Start")
    press(page, "Next")
    described = page.evaluate("""() => [...document.querySelectorAll('[aria-describedby]')].map(el => ({
        id: el.id, refs: el.getAttribute('aria-describedby').split(/\\s+/).filter(Boolean),
        missing: el.getAttribute('aria-describedby').split(/\\s+/).filter(r => r && !document.getElementById(r))}))""")
    assert all(not d["missing"] for d in described), described
    by_id = {d["id"]: d["refs"] for d in described}
    assert by_id["first_name"] == ["first_name-error"]
    assert by_id["preferred_name"] == ["preferred_name-hint"]
    assert set(by_id["sex_at_birth"]) == {"sex_at_birth-hint", "sex_at_birth-error"}
    expect(page.locator("#first_name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#first_name")).to_have_accessible_description(re.compile("Enter your first name"))
    # The hint of a text field is read with it, too.
    expect(page.locator("#visit_reason")).to_have_accessible_description(re.compile("In your own words"))


def focused(page: Page) -> str:
    return page.evaluate("document.activeElement.name || document.activeElement.id")


def tab_to(page: Page, name: str, *, within: int = 1) -> None:
    """Press Tab until the field `name` has focus, at most `within` times (the natural next stop)."""
    for _ in range(within):
        page.keyboard.press("Tab")
        if focused(page) == name:
            return
    raise AssertionError(f"Tab did not reach {name!r}; focus is on {focused(page)!r}")


def test_a_whole_page_can_be_filled_by_keyboard_alone(live_server, page):
    """The first page, with Tab, Space, arrow keys, typing and Enter only: no mouse, no fill()."""
    page.goto(live_server.url + "/")
    tab_to(page, "lang", within=3)  # skip link, then the language picker
    tab_to(page, "lang")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Start"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/intake/about-you$"))

    data = PAGES["about-you"]
    tab_to(page, "first_name", within=2)  # past the skip link
    for name in ("first_name", "last_name", "preferred_name"):
        if name != "first_name":
            tab_to(page, name)
        page.keyboard.type(data[name])
    tab_to(page, "date_of_birth")
    year, month, day = data["date_of_birth"].split("-")
    page.keyboard.type(month + day + year)  # Chromium's en-US date field: mm, dd, yyyy
    tab_to(page, "sex_at_birth", within=3)  # past the date field's own month/day/year stops
    page.keyboard.press("Space")  # "Female", the first choice
    tab_to(page, "phone")
    page.keyboard.type(data["phone"])
    tab_to(page, "email")
    page.keyboard.type(data["email"])
    tab_to(page, "preferred_contact")
    page.keyboard.press("ArrowDown")  # Text message -> Phone call
    page.keyboard.press("ArrowUp")  # and back to Text message, which arrows also select
    for name in ("emergency_contact_name", "emergency_contact_phone", "referral_source"):
        tab_to(page, name)
        page.keyboard.type(data[name])
    tab_to(page, "visit_date")
    year, month, day = data["visit_date"].split("-")
    page.keyboard.type(month + day + year)
    tab_to(page, "visit_reason", within=3)
    page.keyboard.type(data["visit_reason"])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Next"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/intake/medical-history$"))

    press(page, "Back")  # every answer typed above was saved
    for name, value in data.items():
        if name in ("sex_at_birth", "preferred_contact"):
            expect(page.locator(f'[name="{name}"][value="{value}"]')).to_be_checked()
        else:
            expect(page.locator(f'[name="{name}"]')).to_have_value(value)

