"""The privacy notice: a default in English and Spanish, the clinic's own Markdown, no raw HTML, linked where it is named."""

from __future__ import annotations

import re

from tests.conftest import Patient
from tests.walk import walk_to_consent


def test_the_default_notice_says_what_who_why_how_long_and_rights(client):
    page = client.get("/privacy")
    assert page.status_code == 200
    text = page.text
    for heading in ("What we collect", "Why we collect it", "Who sees it", "How long we keep it", "Your rights", "Contact"):
        assert f"<h2>{heading}</h2>" in text
    assert "Test Clinic asks you to fill in this form" in text
    assert "Front-desk staff" in text and "Unfinished forms" in text
    assert "{clinic_name}" not in text and "{contact}" not in text


def test_the_notice_is_in_spanish_for_a_spanish_reader(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    page = client.get("/privacy").text
    assert "<h1>Aviso de privacidad</h1>" in page and "<h2>Sus derechos</h2>" in page
    assert "nuestra recepción" in page  # the contact, when the clinic set none


def test_the_clinic_edits_its_own_notice_and_the_contact_comes_from_config(app, client, tmp_path):
    (tmp_path / "privacy_notice.en.md").write_text("# Our notice\n\nAsk {contact} at {clinic_name}.\n", encoding="utf-8")
    app.config["PRIVACY_CONTACT"] = "privacy@clinic.example"
    page = client.get("/privacy").text
    assert "<h1>Our notice</h1>" in page and "Ask privacy@clinic.example at Test Clinic." in page
    # Spanish readers get the clinic's text too until the clinic writes a Spanish one.
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    assert "<h1>Our notice</h1>" in client.get("/privacy").text


def test_raw_html_and_script_links_in_the_notice_are_shown_as_text(app, client, tmp_path):
    (tmp_path / "privacy_notice.en.md").write_text(
        '# Notice\n\n<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n'
        "[click](javascript:alert(3)) [ok](https://clinic.example/privacy)\n", encoding="utf-8")
    page = client.get("/privacy").text
    body = re.search(r'<article class="notice-text">(.*)</article>', page, re.S).group(1)
    assert "<script" not in body and "<img" not in body and "&lt;script&gt;" in body
    assert "javascript:" not in body.replace("[click](javascript:alert(3))", "")
    assert 'href="javascript' not in body and '<a href="https://clinic.example/privacy">ok</a>' in body


def test_the_start_page_and_the_consent_box_link_to_the_notice(app, patient):
    assert 'href="/privacy"' in patient.client.get("/").text
    walk_to_consent(patient)
    consent = patient.client.get("/intake/consent").text
    label = re.search(r'<label for="consent_privacy">(.*?)</label>', consent, re.S).group(1).replace("&#39;", "'")
    assert re.search(r'I have read the clinic\'s <a href="/privacy" target="_blank" rel="noopener">privacy notice'
                     r'<span class="visually-hidden"> \(opens in a new tab\)</span></a> and understand', label)


def test_the_consent_link_is_translated_with_its_phrase(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    patient = Patient(client)
    patient.start()
    consent = client.get("/intake/consent").text
    assert '<a href="/privacy" target="_blank" rel="noopener">aviso de privacidad' in consent
