"""Staff helpers for the browser tests, and a submission from a patient who reads Spanish."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from intake.models import Submission
from intake.store import submissions
from tests.conftest import Patient
from tests.walk import PAGES, SECTIONS

DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "correct horse battery staple"
# Typed in Spanish, with accents, ñ and Spanish punctuation: it must reach the PDF exactly as typed.
VISIT_REASON = "¿Se puede suavizar el entrecejo? Me gustaría verme descansada, sin cirugía."
GOALS = "Que las líneas de expresión se noten menos; la señora Núñez me recomendó la clínica."


def create_staff(app, email: str, role: str) -> None:
    result = app.test_cli_runner().invoke(args=["create-staff", email, "--role", role], env={"INTAKE_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output


def spanish_submission(app, last_name: str = "Ibáñez") -> Submission:
    """A patient who reads Spanish submits (through the test client: the browser walk is tested elsewhere)."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-MX,es;q=0.9"
    patient = Patient(client)
    patient.start()
    pages = {**PAGES, "about-you": {**PAGES["about-you"], "last_name": last_name, "referral_source": "Un amigo o familiar",
                                    "visit_reason": VISIT_REASON},
             "skin": {**PAGES["skin"], "goals": GOALS}}
    for section_id in [*SECTIONS, "consent"]:
        assert patient.post(section_id, pages[section_id]).status_code == 302, section_id
    reference = re.search(r'class="reference">([^<]+)<', client.get("/intake/thanks").text).group(1).strip()
    return submissions.get_by_reference(app.extensions["intake.store"], reference)


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/staff/")
    expect(page).to_have_url(re.compile("/staff/login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile("/staff/$"))
