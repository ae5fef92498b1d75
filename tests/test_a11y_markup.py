"""Accessibility in the markup itself, without a browser: fast checks that back up the axe-core run."""

from __future__ import annotations

import re

import pytest

from tests.walk import PAGES, SECTIONS


@pytest.fixture
def pages(patient) -> dict[str, str]:
    """Every wizard page, empty and then with every error showing."""
    patient.start()
    out = {}
    for section_id in [*SECTIONS, "consent"]:
        out[section_id] = patient.client.get(f"/intake/{section_id}").text
        out[f"{section_id}, errors"] = patient.post(section_id, {}).text
        if section_id != "consent":
            patient.post(section_id, PAGES[section_id])
    out["review"] = patient.client.get("/intake/review").text
    return out


def test_no_attribute_is_written_as_none(pages):
    for name, page in pages.items():
        assert not re.search(r'\s[\w-]+="None"', page), name


def test_every_aria_reference_points_at_an_element_on_the_page(pages):
    for name, page in pages.items():
        ids = set(re.findall(r'\sid="([^"]+)"', page))
        for refs in re.findall(r'aria-(?:describedby|labelledby)="([^"]*)"', page):
            assert set(refs.split()) <= ids, (name, refs)


def test_errors_are_announced_and_tied_to_their_fields(pages):
    page = pages["about-you, errors"]
    assert 'id="error-summary" role="alert" tabindex="-1"' in page
    field = re.search(r'<input[^>]*id="first_name"[^>]*>', page).group(0)
    assert 'aria-describedby="first_name-error"' in field and 'aria-invalid="true"' in field
    assert 'id="first_name-error"' in page


def test_staff_pages_declare_english_even_for_a_spanish_browser(client):
    page = client.get("/staff/login", headers={"Accept-Language": "es"})
    assert '<html lang="en">' in page.text
    patient = client.get("/", headers={"Accept-Language": "es"})
    assert '<html lang="es">' in patient.text
