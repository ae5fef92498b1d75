"""A returning patient on a phone: the history comes back, she confirms it (or changes it), and submits."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from intake import returning
from intake.models import Submission
from tests.e2e.browsing import fill, press
from tests.e2e.conftest import screenshot
from tests.e2e.test_a11y import axe, describe
from tests.returning_support import earlier_submission, start
from tests.walk import PAGES

pytestmark = pytest.mark.browser

YES = "Yes, this is still right"
FRESH_HISTORY = {k: PAGES["medical-history"][k] for k in ("skin_conditions", "pregnancy", "smoking")}
FRESH_SKIN = {k: v for k, v in PAGES["skin"].items() if not k.startswith(("fitz_", "prior_", "procedure_"))}


def _invited(live_server, new_context, *, javascript: bool = True):
    """A staff invitation's draft for the walk's patient, opened in a fresh phone browser."""
    app = live_server.app
    token, _draft = start(app, earlier_submission(app).id,
                          prefill={k: PAGES["about-you"][k] for k in ("first_name", "last_name", "email")})
    page = new_context(javascript=javascript).new_page()
    page.goto(f"{live_server.url}/intake/resume/{token}")
    expect(page).to_have_url(re.compile("/intake/about-you$"))
    return page


def _stored(app, reference: str) -> Submission:
    with app.extensions["intake.store"].reading() as session:
        return session.scalars(select(Submission).where(Submission.reference == reference)).one()


def _clean(page, name: str) -> None:
    found = axe(page, name)
    assert not [v for v in found if v["impact"] in ("serious", "critical")], describe(found)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_returning_patient_confirms_carried_sections_and_submits(live_server, new_context, javascript):
    page = _invited(live_server, new_context, javascript=javascript)
    # Identity is never carried: only what the appointment knows is filled in.
    expect(page.locator('[name="first_name"]')).to_have_value("Maria")
    expect(page.locator('[name="date_of_birth"]')).to_have_value("")
    fill(page, PAGES["about-you"])
    press(page, "Next")
    expect(page).to_have_url(re.compile("/intake/medical-history$"))

    # Is this still right? The history is filled in from the form of 12 March 2026.
    expect(page.get_by_role("heading", name="Is this still right?")).to_be_visible()
    expect(page.get_by_text("from the form you sent us on March 12, 2026")).to_be_visible()
    expect(page.get_by_label("Lidocaine or numbing creams")).to_be_checked()
    expect(page.get_by_label("Any other medicines or supplements")).to_have_value("Levothyroxine 50 mcg daily")
    if javascript:
        _clean(page, "returning: medical-history, is this still right")
        page.get_by_role("heading", name="Is this still right?").scroll_into_view_if_needed()
        screenshot(page, "returning-still-right.png")
    fill(page, FRESH_HISTORY)  # this visit's answers are asked afresh
    if javascript:
        page.get_by_role("button", name=YES).scroll_into_view_if_needed()
        screenshot(page, "returning-yes-button.png")

    # Skip ahead to the review before confirming: it refuses, with the summary on top and a note by each section.
    page.goto(live_server.url + "/intake/review")
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Your health")
    expect(summary).to_contain_text("Is this still right? Confirm or change it.")
    expect(page.locator("#carried-neurotoxin")).to_contain_text("These answers come from your form of March 12, 2026")
    if javascript:
        _clean(page, "returning: review, unconfirmed")
        screenshot(page, "returning-review-unconfirmed.png")

    # From the summary to the page; confirmed with the keyboard alone; back to the review.
    summary.get_by_role("link", name=re.compile("Your health")).click()
    expect(page).to_have_url(re.compile(r"/intake/medical-history\?from=review$"))
    fill(page, FRESH_HISTORY)
    page.get_by_role("button", name=YES).focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/intake/review$"))
    expect(page.locator("#carried-medical-history")).to_have_count(0)

    page.goto(live_server.url + "/intake/neurotoxin")
    expect(page.locator('[name="neurotoxin-1-neurotoxin_product"]')).to_have_value("onabotulinumtoxinA")
    press(page, YES)
    expect(page).to_have_url(re.compile("/intake/skin$"))
    fill(page, {**FRESH_SKIN, "fitz_last_exposure": "months_2_3"})
    page.get_by_label("Laser or light treatment").check()  # an edit: saving it confirms the edited answers
    page.get_by_label("Date of your last laser treatment").fill("2026-06-01")
    press(page, YES)
    expect(page).to_have_url(re.compile("/intake/photos$"))  # the optional photos page, skipped
    press(page, "Next")
    expect(page).to_have_url(re.compile("/intake/review$"))
    expect(page.locator("#error-summary")).to_have_count(0)

    page.get_by_role("link", name="Continue to consent and signature").click()
    fill(page, PAGES["consent"])
    press(page, "Sign and submit")
    expect(page).to_have_url(re.compile("/intake/thanks$"))
    stored = _stored(live_server.app, page.locator(".reference").inner_text().strip())
    sections = stored.answers[returning.CARRIED]["sections"]
    assert {sid: (r["confirmed"], r["changed"]) for sid, r in sections.items()} == {
        "medical-history": (True, False), "neurotoxin": (True, False), "skin": (True, True)}
    assert stored.answers["prior_procedures"] == ["peel", "laser"]
    assert stored.answers["allergies"] == ["lidocaine"] and stored.answers["date_of_birth"] == "1986-04-12"


def test_returning_patient_in_spanish(live_server, new_context):
    app = live_server.app
    token, _draft = start(app, earlier_submission(app).id, language="es")
    page = new_context(language="es").new_page()
    page.goto(f"{live_server.url}/intake/resume/{token}")
    page.goto(live_server.url + "/intake/neurotoxin")
    expect(page.get_by_role("heading", name="¿Sigue siendo correcto?")).to_be_visible()
    expect(page.get_by_text("12 de marzo de 2026")).to_be_visible()
    expect(page.get_by_role("button", name="Sí, sigue siendo correcto")).to_be_visible()
    _clean(page, "returning: neurotoxin in Spanish")
