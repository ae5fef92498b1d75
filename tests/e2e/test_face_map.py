"""The face map in Chromium on a phone: tapping and keyboard with JavaScript, the plain fieldset without it, axe
on the map page, Spanish, and the marked zones found again on the review page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from intake.zonemap import FACE_ZONES
from tests.e2e.browsing import fill
from tests.e2e.conftest import screenshot
from tests.e2e.test_a11y import axe, describe
from tests.walk import PAGES

pytestmark = pytest.mark.browser

SKIN_REST = {k: v for k, v in PAGES["skin"].items() if not k.startswith("concern_areas-")}


def forward(page: Page, path: str) -> None:
    page.locator('button[name="action"][value="next"]').click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def to_the_skin_page(page: Page, base: str) -> None:
    page.goto(base + "/")
    page.locator('form[action$="/intake/start"] button[type="submit"]').click()
    # fill() skips fields it cannot see: wait for the first page, or it may skip some while the start page is up.
    expect(page).to_have_url(re.compile(r"/intake/about-you$"))
    for section, after in (("about-you", "/intake/medical-history"), ("medical-history", "/intake/neurotoxin"),
                           ("neurotoxin", "/intake/skin")):
        fill(page, PAGES[section])
        forward(page, after)


def show_map(page: Page) -> None:
    page.locator("#concern_areas > legend").evaluate("e => e.scrollIntoView()")


def test_tapping_zones_and_the_keyboard_mark_the_fieldset_and_the_review_shows_them(live_server, new_context):
    page = new_context().new_page()
    to_the_skin_page(page, live_server.url)
    drawing = page.locator("[data-zone-map]")
    expect(drawing).to_be_visible()
    for code in FACE_ZONES:  # every zone a finger-sized target on a 375px phone
        box = page.locator(f"#zm-{code}").bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, (code, box)

    page.locator("#zm-crows_feet_r").click()
    sheet = page.get_by_role("dialog")
    expect(sheet).to_be_visible()
    expect(sheet.get_by_role("heading")).to_have_text("Crow's feet, right")
    sheet.get_by_label("Lines when moving").check()
    violations = axe(page, "skin, face map sheet open")
    assert not violations, describe(violations)
    screenshot(page, "face-map-sheet.png")
    sheet.get_by_role("button", name="Done").click()
    expect(sheet).to_be_hidden()
    expect(page.locator("#zm-crows_feet_r")).to_have_class(re.compile(r"\bis-marked\b"))
    expect(page.locator("#concern_areas-crows_feet_r [data-zone-picked]")).to_have_text("Lines when moving")
    expect(page.locator("#concern_areas-crows_feet_r-lines_moving")).to_be_checked()  # the fieldset holds the answer

    page.locator("#zm-chin").focus()  # the keyboard: Enter opens, Tab and Space tick, Escape closes
    page.keyboard.press("Enter")
    expect(sheet).to_be_visible()
    expect(page.locator("#concern_areas-chin-lines_rest")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    expect(page.locator("#zm-chin")).to_be_focused()
    expect(page.locator("#zm-chin")).to_have_attribute("aria-label", "Chin – marked: Volume loss")

    page.locator("#concern_areas-abdomen summary").click()  # body areas: the list
    page.locator("#concern_areas-abdomen-texture").check()
    expect(page.locator("#concern_areas-abdomen [data-zone-picked]")).to_have_text("Texture or scars")
    show_map(page)
    violations = axe(page, "skin, face map")
    assert not violations, describe(violations)
    screenshot(page, "face-map-phone.png")

    fill(page, SKIN_REST)
    forward(page, "/intake/photos")  # the optional photos page, skipped
    forward(page, "/intake/review")
    words = page.locator(".zone-words")
    expect(words).to_contain_text("Crow's feet, right: Lines when moving")
    expect(words).to_contain_text("Chin: Volume loss")
    expect(words).to_contain_text("Abdomen: Texture or scars")
    expect(page.locator('.zone-summary path[data-zone="chin"]')).to_have_class(re.compile(r"\bis-marked\b"))


def test_without_javascript_the_fieldset_alone_marks_zones(live_server, new_context):
    page = new_context(javascript=False).new_page()
    to_the_skin_page(page, live_server.url)
    expect(page.locator("[data-zone-map]")).to_be_hidden()
    page.locator("#concern_areas-neck summary").click()
    page.locator("#concern_areas-neck-laxity").check()
    page.locator("#concern_areas-nasolabial_l summary").click()
    page.locator("#concern_areas-nasolabial_l-volume").check()
    fill(page, SKIN_REST)
    forward(page, "/intake/photos")  # the optional photos page, skipped
    forward(page, "/intake/review")
    expect(page.locator(".zone-words")).to_contain_text("Neck: Loose or sagging skin")
    expect(page.locator(".zone-words")).to_contain_text("Nose-to-mouth line, left: Volume loss")


def test_the_map_in_spanish(live_server, new_context):
    page = new_context(language="es-US").new_page()
    to_the_skin_page(page, live_server.url)
    expect(page.locator("#concern_areas > legend")).to_contain_text("¿Dónde están sus preocupaciones")
    page.locator("#zm-forehead").click()
    sheet = page.get_by_role("dialog")
    expect(sheet.get_by_role("heading")).to_have_text("Frente")
    sheet.get_by_label("Líneas al gesticular").check()
    sheet.get_by_role("button", name="Listo").click()
    page.locator("#zm-cheek_l").click()
    sheet.get_by_label("Pérdida de volumen").check()
    sheet.get_by_role("button", name="Listo").click()
    expect(page.locator("#concern_areas-cheek_l [data-zone-picked]")).to_have_text("Pérdida de volumen")
    show_map(page)
    violations = axe(page, "skin, face map, Spanish")
    assert not violations, describe(violations)
    screenshot(page, "face-map-phone-es.png")
