"""A patient in the browser: fill a page from tests/walk.py's PAGES, field by field, as she would."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

ROW_FIELD = re.compile(r"^(?P<group>[a-z_]+)-(?P<row>\d+)-")


def fill(page: Page, data: dict) -> None:
    """Fill each named field that is on show; add a treatment row when the data needs one more.

    Questions the page hides (their condition is not met) are skipped, as a patient cannot see
    them: the stored answers then show whether the browser hid the right ones. It first waits for one of the
    named fields, so a click that is still loading the page does not leave the fields it comes to unfilled.
    """
    page.locator(", ".join(f'[name="{name}"]' for name in data)).first.wait_for(state="attached")
    for name, value in data.items():
        if (row := ROW_FIELD.match(name)) and not page.locator(f'[name^="{row["group"]}-{row["row"]}-"]').count():
            page.locator(f'#q-{row["group"]} [data-add-row]').click()
            expect(page.locator(f'[name^="{row["group"]}-{row["row"]}-"]').first).to_be_attached()
        fields = page.locator(f'[name="{name}"]')
        if fields.count() and not fields.first.is_visible() and fields.first.evaluate("e => !!e.closest('details')"):
            fields.first.locator("xpath=ancestor::details[1]/summary").click()  # the face map's list: open the zone
        if not fields.first.is_visible():
            continue
        kind = fields.first.get_attribute("type")
        tag = fields.first.evaluate("e => e.tagName")
        for one in value if isinstance(value, list) else [value]:
            if kind == "radio" or (kind == "checkbox" and fields.count() > 1):
                page.locator(f'[name="{name}"][value="{one}"]').check()
            elif kind == "checkbox":
                fields.check()
            elif tag == "SELECT":
                fields.select_option(one)
            else:
                fields.fill(one)


def press(page: Page, name: str) -> None:
    """Press the form's button with this accessible name and wait for the next page."""
    page.get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state()


def next_page(page: Page, expected_path: str) -> None:
    press(page, "Next")
    expect(page).to_have_url(re.compile(re.escape(expected_path) + "$"))
