"""Spanish in the browser: the browser's language is the default, and the picker changes it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import press
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.browser


def test_a_spanish_browser_gets_spanish_and_the_picker_switches(live_server, new_context):
    page = new_context(language="es-US").new_page()
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Antes de su consulta")
    expect(page.get_by_role("button", name="Español")).to_have_attribute("aria-pressed", "true")
    screenshot(page, "es-start.png", full_page=True)

    press(page, "English")
    expect(page.get_by_role("heading", level=1)).to_have_text("Before your consultation")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    press(page, "Español")
    press(page, "Empezar")
    expect(page).to_have_url(re.compile("/intake/about-you$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sus datos")
    expect(page.get_by_label("Nombre legal")).to_be_visible()
