"""Staff in a real browser: sign in, find a Spanish-speaking patient's submission, download its PDF."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.e2e.staffing import DESKTOP, GOALS, VISIT_REASON, create_staff, sign_in, spanish_submission

pytestmark = pytest.mark.browser

def test_staff_finds_the_submission_and_its_pdf_is_in_the_clinic_language(live_server, new_context, tmp_path):
    submission = spanish_submission(live_server.app)
    assert submission.language == "es"
    create_staff(live_server.app, "dr.reyes@clinic.example", "physician")
    # The physician's own browser prefers Spanish too: the PDF must still be in the clinic's language.
    page = new_context(viewport=DESKTOP, language="es-US").new_page()
    sign_in(page, live_server.url, "dr.reyes@clinic.example")

    page.get_by_label("Search").fill(submission.reference)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Ibáñez, Maria (Mari)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ibáñez, Maria (Mari)")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == f"intake-{submission.reference}.pdf"
    path = tmp_path / "summary.pdf"
    download.value.save_as(path)
    text = "\n".join(p.extract_text() for p in PdfReader(path).pages)
    flat = " ".join(text.split())

    assert submission.reference in flat
    assert VISIT_REASON in flat and GOALS in flat, "free text must appear exactly as typed"
    assert re.search(r"\bSpanish\b", flat), "the PDF says which language the patient used"
    # Clinic's language: English labels, not the Spanish the patient saw.
    assert "Dysport" in flat and "Crow's feet" in flat.replace("’", "'")
    for spanish in ("Patas de gallo", "Fecha de nacimiento", "Moretones"):
        assert spanish not in flat
