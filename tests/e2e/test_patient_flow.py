"""A patient on a phone fills in the whole form in a real browser, with JavaScript on and off."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from intake.models import Submission
from tests.e2e.browsing import fill, next_page, press
from tests.e2e.conftest import screenshot
from tests.walk import EXPECTED, PAGES

pytestmark = pytest.mark.browser


def submissions(app) -> dict[str, Submission]:
    with app.extensions["intake.store"].reading() as session:
        return {row.reference: row for row in session.scalars(select(Submission))}


def _start(page, live_server) -> None:
    page.goto(live_server.url + "/")
    press(page, "Start")
    expect(page).to_have_url(re.compile("/intake/about-you$"))


def _medical_history_conditions(page) -> None:
    """Ticking cancer treatment asks where it was; unticking takes the question away again."""
    area = page.get_by_label("Which area was treated, and when?")
    expect(area).to_be_hidden()
    cancer = page.get_by_label("Cancer treatment, chemotherapy or radiation in the last 12 months")
    cancer.check()
    expect(area).to_be_visible()
    cancer.uncheck()
    expect(area).to_be_hidden()


def _neurotoxin_conditions(page) -> None:
    group = page.locator("#q-neurotoxin")
    expect(group).to_be_hidden()
    page.locator('[name="neurotoxin_ever"][value="no"]').check()
    expect(group).to_be_hidden()
    page.locator('[name="neurotoxin_ever"][value="yes"]').check()
    expect(group).to_be_visible()
    shortfall = page.get_by_label("What fell short?")
    page.get_by_label("Partly").check()
    expect(shortfall).to_be_visible()
    page.locator('[name="neurotoxin_full_result"][value="yes"]').check()
    expect(shortfall).to_be_hidden()


def _two_rows_without_a_page_load(page) -> None:
    page.evaluate("window.stillHere = true")
    fill(page, PAGES["neurotoxin"])
    rows = page.locator("#q-neurotoxin [data-row]")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator("legend").first).to_have_text(re.compile(r"Treatment\s+2"))
    assert page.evaluate("window.stillHere === true"), "adding a row must not reload the page"
    # The phone's view where one treatment ends and the next begins.
    rows.nth(1).evaluate("row => window.scrollTo(0, row.getBoundingClientRect().top + window.scrollY - 300)")
    screenshot(page, "phone-neurotoxin-rows.png")


def test_patient_fills_the_whole_form_on_a_phone_and_resumes_on_another_device(live_server, new_context):
    first = new_context().new_page()
    _start(first, live_server)
    fill(first, PAGES["about-you"])
    next_page(first, "/intake/medical-history")
    _medical_history_conditions(first)
    fill(first, PAGES["medical-history"])
    next_page(first, "/intake/neurotoxin")

    # Halfway: she keeps the private link and closes the browser; later she opens it elsewhere.
    resume_url = first.locator("input#resume-url").input_value()
    assert re.fullmatch(re.escape(live_server.url) + r"/intake/resume/[\w-]+", resume_url)
    first.context.close()
    page = new_context().new_page()
    page.goto(resume_url)
    expect(page).to_have_url(re.compile("/intake/neurotoxin$"))
    assert "/resume/" not in page.url

    _neurotoxin_conditions(page)
    _two_rows_without_a_page_load(page)
    next_page(page, "/intake/skin")
    fill(page, PAGES["skin"])
    next_page(page, "/intake/photos")  # optional: skipped
    next_page(page, "/intake/review")
    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    page.get_by_role("link", name="Continue to consent and signature").click()
    fill(page, PAGES["consent"])
    press(page, "Sign and submit")
    expect(page).to_have_url(re.compile("/intake/thanks$"))
    reference = page.locator(".reference").inner_text().strip()

    stored = submissions(live_server.app)[reference]
    assert stored.answers == EXPECTED
    assert stored.language == "en"


def test_the_same_form_works_with_javascript_off(live_server, new_context):
    page = new_context(javascript=False).new_page()
    _start(page, live_server)
    fill(page, PAGES["about-you"])
    next_page(page, "/intake/medical-history")
    # Without the script every question is on show; the server drops answers to ones that do not apply.
    expect(page.get_by_label("Which area was treated, and when?")).to_be_visible()
    fill(page, PAGES["medical-history"])
    next_page(page, "/intake/neurotoxin")

    with page.expect_request(lambda r: r.method == "POST" and "action=add_row%3Aneurotoxin" in (r.post_data or "")):
        fill(page, PAGES["neurotoxin"])
    expect(page.locator("#q-neurotoxin [data-row]")).to_have_count(2)
    expect(page.locator('[name="neurotoxin-0-neurotoxin_product"]')).to_have_value("abobotulinumtoxinA")
    next_page(page, "/intake/skin")
    fill(page, PAGES["skin"])
    next_page(page, "/intake/photos")  # optional: skipped
    next_page(page, "/intake/review")
    page.get_by_role("link", name="Continue to consent and signature").click()
    fill(page, PAGES["consent"])
    press(page, "Sign and submit")
    expect(page).to_have_url(re.compile("/intake/thanks$"))
    reference = page.locator(".reference").inner_text().strip()
    assert submissions(live_server.app)[reference].answers == EXPECTED


def test_a_row_can_be_removed_with_javascript_off(live_server, new_context):
    page = new_context(javascript=False).new_page()
    _start(page, live_server)
    page.goto(live_server.url + "/intake/neurotoxin")
    fill(page, {k: v for k, v in PAGES["neurotoxin"].items() if k.startswith("neurotoxin-")})
    expect(page.locator("#q-neurotoxin [data-row]")).to_have_count(2)
    page.get_by_role("button", name="Remove this treatment").first.click()
    expect(page.locator("#q-neurotoxin [data-row]")).to_have_count(1)
    expect(page.locator('[name="neurotoxin-0-neurotoxin_product"]')).to_have_value("onabotulinumtoxinA")

