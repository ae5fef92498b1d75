"""The physician's PDF and the staff page say which sections a returning patient brought forward and confirmed."""

from __future__ import annotations

from sqlalchemy import select

from intake import renders
from intake.models import Submission
from tests.returning_support import earlier_submission, invite
from tests.staff_support import as_role, users  # noqa: F401, F811 - fixtures
from tests.test_pdf import pdf_text, store_submission
from tests.walk import EXPECTED, PAGES

SAID = "Carried forward from 2026-03-12, confirmed by the patient"
CHANGED = "Carried forward from 2026-03-12, changed and confirmed by the patient"


def returning_submission(app, client, patient, skin: dict | None = None) -> Submission:
    """An earlier form of 2026-03-12, carried forward by an invitation; skin's answers changed by `skin`."""
    earlier = earlier_submission(app)
    invite(app, client, earlier.id)
    for section in ("about-you", "medical-history", "neurotoxin"):
        assert patient.post(section, PAGES[section]).status_code == 302
    assert patient.post("skin", {**PAGES["skin"], **(skin or {})}).status_code == 302
    assert patient.post("consent", PAGES["consent"]).location.endswith("/intake/thanks")
    with app.extensions["intake.store"].reading() as session:
        return session.scalars(select(Submission).where(Submission.id != earlier.id)).one()


def test_the_pdf_marks_each_carried_section_with_its_date_and_the_confirmation(app, client, patient):
    submission = returning_submission(app, client, patient, skin={"fitz_freckles": "many"})
    with app.app_context():
        text, reader = pdf_text(renders.ensure_pdf(submission))
    page_one = " ".join(reader.pages[0].extract_text().split())
    # Page 1: allergies, health (which answers), the neurotoxin history and the skin type.
    assert f"ALLERGIES {SAID}." in page_one
    assert f"HEALTH {SAID}: Conditions, Medications." in page_one
    assert f"NEUROTOXIN HISTORY {SAID}." in page_one
    assert f"SKIN TYPE {CHANGED}: Fitzpatrick answers." in page_one
    # Every answer: each carried section, with the answers it covers; identity and consent never.
    assert (f"Your health {SAID}: Conditions, Medications, Topical retinoid last use, Other medications, "
            "Allergies, Other allergies.") in text
    assert f"Past Botox and similar treatments {SAID}: Prior neurotoxin, Treatment, Full result?, What fell short." in text
    assert f"Your skin and goals {CHANGED}: Eye colour," in text
    assert "About you Carried" not in text and "Consent and signature Carried" not in text
    assert text.count("Carried forward from") == 7


def test_a_first_time_patients_pdf_says_nothing_about_carrying(app):
    submission = store_submission(app, EXPECTED)
    with app.app_context():
        text, _reader = pdf_text(renders.ensure_pdf(submission))
    assert "Carried forward" not in text and "confirmed by the patient" not in text


def test_the_staff_page_shows_the_carried_sections(app, client, patient, as_role):  # noqa: F811
    submission = returning_submission(app, client, patient)
    page = as_role("physician").get(f"/staff/submissions/{submission.id}")
    assert page.status_code == 200
    assert f"{SAID}: Conditions, Medications, Topical retinoid last use" in page.text
    assert f"{SAID}: Prior neurotoxin, Treatment" in page.text
    assert page.text.count("Carried forward from 2026-03-12") == 3
