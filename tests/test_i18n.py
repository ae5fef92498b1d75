"""Spanish: a complete catalogue, a language picker, and answers that do not depend on the language."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from intake.models import Submission
from intake.questionnaire import load
from tests.conftest import Patient, hidden_fields
from tests.walk import EXPECTED, PAGES, SECTIONS

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "intake/translations/es/LC_MESSAGES/messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "translate": None}
# Staff pages and the physician's PDF are in the clinic's language; only what patients read must be Spanish.
CLINIC_ONLY = ("templates/staff/", "templates/pdf/", "intake/web/staff.py", "intake/pdf.py", "intake/summary.py",
               "intake/screening.py", "intake/export.py", "intake/cli.py", "intake/auth.py", "intake/audit.py")


@pytest.fixture(scope="module")
def catalogue():
    with PO.open("rb") as handle:
        return read_po(handle, locale="es")


def extracted() -> dict[str, list[str]]:
    """Extract every message from the sources now, as `make translations` does, with where it is used."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str, list[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options_map, KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, []).append(filename)
    return found


def test_every_patient_facing_message_has_a_spanish_translation(catalogue):
    untranslated = [
        msgid for msgid, files in extracted().items()
        if not all(f.startswith(CLINIC_ONLY) for f in files)
        and (msgid not in catalogue or not catalogue[msgid].string or catalogue[msgid].fuzzy)
    ]
    assert not untranslated, f"run `make translations` and translate these in {PO.relative_to(ROOT)}: {untranslated}"


def test_every_questionnaire_text_is_extracted():
    questionnaire = load(ROOT / "intake/questionnaires/consultation.yaml")
    texts = {questionnaire.title}
    for section in questionnaire.sections:
        texts |= {section.title, section.intro}
        for question in section.questions:
            for q in (question, *question.items):
                texts |= {q.text, q.help, q.required_message, *(c.label for c in q.choices)}
    assert texts - {""} <= set(extracted())


def test_catalogue_placeholders_match_and_compiled_file_is_current(catalogue):
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalogue.check()]
    assert not problems
    with (PO.with_suffix(".mo")).open("rb") as handle:
        compiled = read_mo(handle)
    assert {m.id: m.string for m in compiled if m.id} == {m.id: m.string for m in catalogue if m.id and not m.fuzzy}, \
        "messages.mo is stale: run `make translations`"


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'<input[^>]*type="hidden"[^>]*>', " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_browser_language_is_the_default(client):
    page = client.get("/", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es">' in page.text
    assert "Antes de su consulta" in page.text
    assert client.get("/", headers={"Accept-Language": "fr, en;q=0.5"}).text.count("Before your consultation") == 1


def test_language_picker_overrides_the_browser(client):
    start = client.get("/", headers={"Accept-Language": "en"})
    assert 'name="lang" value="es" lang="es"' in start.text
    response = client.post("/language", data={**hidden_fields(start.text), "lang": "es"}, headers={"Accept-Language": "en"})
    assert response.status_code == 302 and response.location.endswith("/")
    page = client.get("/", headers={"Accept-Language": "en"})
    assert "Antes de su consulta" in page.text
    assert 'value="es" lang="es"\n              aria-pressed="true"' in page.text
    # A language the clinic does not offer is ignored, and the choice stands.
    client.post("/language", data={**hidden_fields(page.text), "lang": "xx"})
    assert "Antes de su consulta" in client.get("/", headers={"Accept-Language": "en"}).text


def test_language_picker_needs_the_csrf_token(client):
    client.post("/language", data={"lang": "es"})
    assert "Before your consultation" in client.get("/", headers={"Accept-Language": "en"}).text


def spanish_patient(app) -> Patient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    return Patient(client)


def test_every_page_a_patient_sees_is_in_spanish(app, catalogue):
    patient = spanish_patient(app)
    patient.start()
    pages = [patient.client.get("/").text]
    for section_id in SECTIONS:
        pages.append(patient.client.get(f"/intake/{section_id}").text)
        pages.append(patient.post(section_id, {}).text)  # with every error shown
        patient.post(section_id, _spanish(PAGES[section_id]))
    pages.append(patient.client.get("/intake/review").text)
    pages.append(patient.client.get("/intake/consent").text)
    text = " ".join(visible_text(p) for p in pages)
    # Long English texts that differ in Spanish must not appear; short words ("No", "Normal") are the same in both.
    english = [m.id for m in catalogue if m.id and len(m.id) >= 12 and m.id != m.string and m.id not in m.string]
    left = [msgid for msgid in english if re.sub(r"%\(\w+\)\w", "", msgid) in text]
    assert not left
    # The specific messages, from the questionnaire's required_message and from the rule by type.
    assert "Escriba su fecha de nacimiento." in text and "Elija cómo prefiere que nos comuniquemos con usted." in text
    assert "Elija una de las respuestas." in text  # a Fitzpatrick item: the rule for a choice
    assert "Responda esto solo si eligió “En parte” o “No” arriba." in text  # the hint shown without JavaScript
    assert "Por favor, revise estas respuestas" in text


def _spanish(data: dict) -> dict:
    """What a Spanish reader posts: the open-choice answer is the Spanish label they picked."""
    if data.get("referral_source") == "A friend or family member":
        return {**data, "referral_source": "Un amigo o familiar"}
    return data


def test_a_spanish_walk_stores_the_same_codes_and_the_language(app):
    patient = spanish_patient(app)
    patient.start()
    for section_id in SECTIONS:
        assert patient.post(section_id, _spanish(PAGES[section_id])).status_code == 302, section_id
    response = patient.post("consent", PAGES["consent"])
    assert response.status_code == 302 and response.location.endswith("/intake/thanks")
    assert "Gracias. Su formulario fue enviado." in patient.client.get("/intake/thanks").text
    with app.extensions["intake.store"].reading() as session:
        [row] = session.scalars(select(Submission)).all()
    assert row.answers == EXPECTED
    assert row.language == "es"


def test_a_resumed_spanish_draft_shows_the_spanish_label_it_stored_as_a_code(app):
    patient = spanish_patient(app)
    patient.start()
    patient.post("about-you", _spanish(PAGES["about-you"]))
    page = patient.client.get("/intake/about-you")
    assert 'value="Un amigo o familiar"' in page.text


def test_exclusive_choice_error_names_the_choice_in_spanish(app):
    patient = spanish_patient(app)
    patient.start()
    page = patient.post("medical-history", {**PAGES["medical-history"], "conditions": ["none", "epilepsy"]})
    assert page.status_code == 422
    assert "«Ninguno de estos» no se puede marcar junto con otras respuestas." in html.unescape(page.text)


def test_an_unusual_error_is_explained_in_spanish_too(client):
    response = client.put("/", headers={"Accept-Language": "es"})
    assert response.status_code == 405
    assert "No se pudo completar" in response.text and "Method Not Allowed" not in response.text
