"""A hostile-input corpus against every store: field errors or 4xx pages for people, never a 500."""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

import urllib.parse

import pytest

from intake.store import drafts
from tests.conftest import Patient, hidden_fields
from tests.staff_support import csrf, login, make_user
from tests.walk import PAGES

CONTROL = ["\x00", "a\x00b", "\x07bell", "\x1b[31mred", "\x7f", "\x85next-line", "tab\tin a name"]


def fresh_patient(app) -> Patient:
    patient = Patient(app.test_client())
    patient.start()
    return patient


def draft_answers(app, patient: Patient) -> dict:
    with patient.client.session_transaction() as session:
        token = session["draft"]
    return drafts.get(app.extensions["intake.store"], token).answers


def raw_post(client, path: str, body: bytes, content_type="application/x-www-form-urlencoded"):
    return client.post(path, data=body, content_type=content_type)


def tokens(client, path: str) -> dict:
    return hidden_fields(client.get(path).text)


@pytest.mark.parametrize("value", CONTROL)
def test_control_characters_in_an_answer_get_a_message_next_to_the_field(any_app, value):
    patient = fresh_patient(any_app)
    response = patient.post("about-you", {**PAGES["about-you"], "last_name": value})
    assert response.status_code == 422
    assert "invisible characters" in response.text
    assert response.text.count("invisible characters") >= 2, "next to the field and in the summary"
    assert "last_name" not in draft_answers(any_app, patient)


def test_tabs_and_line_breaks_are_kept_in_long_text(any_app):
    patient = fresh_patient(any_app)
    text = "Lines around the eyes\r\ncome back fast.\tAfter 8 weeks."
    response = patient.post("about-you", {**PAGES["about-you"], "visit_reason": text})
    assert response.status_code == 302
    assert draft_answers(any_app, patient)["visit_reason"] == text.replace("\r\n", "\n")


def test_a_nul_in_text_is_refused_on_the_way_in(any_app):
    patient = fresh_patient(any_app)
    response = patient.post("about-you", {**PAGES["about-you"], "visit_reason": "before\x00after"})
    assert response.status_code == 422 and "invisible characters" in response.text


@pytest.mark.parametrize("body", [b"first_name=%FF%FE%FD", b"first_name=\xff\xfe", b"last_name=caf\xe9"])
def test_invalid_utf8_never_fails(any_app, body):
    patient = fresh_patient(any_app)
    hidden = urllib.parse.urlencode(tokens(patient.client, "/intake/about-you")).encode()
    response = raw_post(patient.client, "/intake/about-you", hidden + b"&" + body)
    assert response.status_code in (302, 422)


def test_a_100kb_value_is_a_field_error_and_is_not_saved(any_app):
    patient = fresh_patient(any_app)
    response = patient.post("about-you", {**PAGES["about-you"], "first_name": "A" * 100_000})
    assert response.status_code == 422 and "characters or fewer" in response.text
    assert "first_name" not in draft_answers(any_app, patient)


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart", "query"])
def test_3000_parts_are_refused_in_every_encoding(any_app, encoding):
    patient = fresh_patient(any_app)
    fields = {**tokens(patient.client, "/intake/about-you"), **{f"x{n}": "1" for n in range(3000)}}
    if encoding == "urlencoded":
        response = raw_post(patient.client, "/intake/about-you", urllib.parse.urlencode(fields).encode())
    elif encoding == "multipart":
        response = patient.client.post("/intake/about-you", data=fields, content_type="multipart/form-data")
    else:
        response = patient.client.get("/intake/about-you?" + urllib.parse.urlencode(fields))
    assert response.status_code == 413 and "too much to send" in response.text


@pytest.mark.parametrize("path", [
    "/intake/resume/abc%00def", "/intake/resume/%1b%5b31m", "/?lang=%00", "/intake/about-you?from=%00",
    "/staff/login?next=%2Fstaff%2F%00", "/staff/export?format=csv%00", "/staff/?status=%00new",
    "/intake/%00", "/api/questionnaire?x=%07",
])
def test_control_characters_anywhere_else_get_a_400_page_for_people(any_app, path):
    response = any_app.test_client().get(path)
    assert response.status_code == 400 and "could not be read" in response.text


def test_hidden_fields_and_the_sign_in_email_with_control_characters_are_a_400(any_app):
    user = make_user(any_app, "staff", "desk@clinic.test")
    client = any_app.test_client()
    page = client.get("/staff/login")
    response = client.post("/staff/login", data={"csrf_token": csrf(page.text), "email": "desk@clinic.test\x00",
                                                 "password": "whatever"})
    assert response.status_code == 400 and "could not be read" in response.text
    assert login(client, user.email).status_code == 302
    page = client.get("/staff/")
    response = client.post("/staff/", data={"csrf_token": csrf(page.text), "q": "L\x00pez"})
    assert response.status_code == 400
    patient = fresh_patient(any_app)
    response = patient.post("about-you", {**PAGES["about-you"], "draft_token": "x\x00y"})
    assert response.status_code == 400


def test_a_nul_in_a_json_answer_never_reaches_the_database(any_app):
    """The whole walk with a NUL tried on every free-text question of the first page: nothing stored holds one."""
    patient = fresh_patient(any_app)
    for name in ("first_name", "last_name", "preferred_name", "emergency_contact_name", "referral_source", "visit_reason"):
        assert patient.post("about-you", {**PAGES["about-you"], name: "x\x00"}).status_code == 422
    assert patient.post("about-you", PAGES["about-you"]).status_code == 302
    assert "\x00" not in repr(draft_answers(any_app, patient))
