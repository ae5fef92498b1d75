"""Returning patients: what is carried forward, "Is this still right?", and the refusals until it is confirmed."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from intake import questionnaire, returning
from intake.models import AuditEvent, Submission
from intake.questionnaire import QuestionnaireError
from intake.returning import history as carry_mod
from intake.store import drafts
from tests.conftest import hidden_fields
from tests.returning_support import EARLIER, earlier_submission, invite, start
from tests.staff_support import actions, audit_rows
from tests.walk import EXPECTED, PAGES, walk_to_consent

Q = questionnaire.load()
HISTORY = {"conditions", "medications", "retinoid_last_use", "other_medications", "allergies", "other_allergies",
           "neurotoxin_ever", "neurotoxin", "neurotoxin_full_result", "neurotoxin_shortfall",
           "fitz_eye_colour", "fitz_hair_colour", "fitz_skin_colour", "fitz_freckles", "fitz_burn", "fitz_tan",
           "fitz_brown_hours", "fitz_face_reaction", "fitz_face_exposure", "prior_procedures", "procedure_date_peel"}


def carried(answers: dict) -> dict:
    return carry_mod.carry(Q, answers, source_date=EARLIER, source_id="earlier-id")


# --- the mapping -----------------------------------------------------------------------------------------

def test_history_is_carried_and_identity_consent_and_this_visit_are_not():
    out = carried(EXPECTED)
    assert set(out) - {returning.CARRIED} == HISTORY
    identity_and_consent = {q.link_id for s in (Q.sections[0], Q.sections[-1]) for q in s.questions}
    assert not identity_and_consent & set(out)
    # What belongs to this visit is asked afresh: pregnancy, skin problems now, smoking, concerns, last sun exposure.
    for fresh in ("pregnancy", "skin_conditions", "smoking", "concerns", "goals", "fitz_last_exposure", "visit_date"):
        assert fresh not in out
    assert out["neurotoxin"] == EXPECTED["neurotoxin"]
    record = out[returning.CARRIED]
    assert record["from"] == "2026-03-12" and record["submission_id"] == "earlier-id"
    assert list(record["sections"]) == ["medical-history", "neurotoxin", "skin"]
    for section in record["sections"].values():
        assert section["from"] == "2026-03-12" and section["confirmed"] is False


def test_the_carried_answers_are_copies_not_the_earlier_objects():
    earlier = copy.deepcopy(EXPECTED)
    out = carried(earlier)
    out["neurotoxin"][0]["neurotoxin_units"] = 999
    assert earlier["neurotoxin"][0]["neurotoxin_units"] == 50


def test_answers_that_no_longer_apply_are_not_carried():
    out = carried({**EXPECTED, "cancer_treatment_area": "left cheek, 2025"})  # cancer treatment was not ticked
    assert "cancer_treatment_area" not in out
    out = carried({**EXPECTED, "conditions": ["cancer_treatment"], "cancer_treatment_area": "left cheek, 2025"})
    assert out["cancer_treatment_area"] == "left cheek, 2025"


def test_nothing_to_carry_gives_nothing():
    assert carried({"first_name": "Maria", "signature_name": "Maria López"}) == {}


def _definition(**marks) -> dict:
    import yaml

    data = yaml.safe_load(questionnaire.DEFAULT_PATH.read_text(encoding="utf-8"))
    for section in data["sections"]:
        for question in section["questions"]:
            for item in [question, *question.get("items", [])]:
                if item["link_id"] in marks:
                    item.update(marks[item["link_id"]])
    return data


@pytest.mark.parametrize("link_id, why", [
    ("first_name", "identity (the first section) and consent (the last) are never carried forward"),
    ("date_of_birth", "identity (the first section) and consent (the last) are never carried forward"),
    ("consent_accurate", "identity (the first section) and consent (the last) are never carried forward"),
    ("signature_name", "never a signature"),
    ("neurotoxin_units", "a group carries all its rows"),
])
def test_a_definition_carrying_identity_consent_or_part_of_a_row_is_refused(link_id, why):
    with pytest.raises(QuestionnaireError, match=re.escape(why)):
        questionnaire.parse(_definition(**{link_id: {"carry_forward": True}}))


def test_a_carried_question_depending_on_a_fresh_one_is_refused():
    with pytest.raises(QuestionnaireError, match="may only depend on carried ones"):
        questionnaire.parse(_definition(pregnancy={"carry_forward": True}))


def test_confirming_records_whether_the_answers_changed():
    section = Q.section("skin")
    answers = carried(EXPECTED)
    now = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
    same = carry_mod.confirm(section, answers, now)
    assert carry_mod.record_of(same, "skin")["confirmed"] is True
    assert carry_mod.record_of(same, "skin")["changed"] is False
    assert carry_mod.unconfirmed(same) == ["medical-history", "neurotoxin"]
    edited = carry_mod.confirm(section, {**answers, "fitz_freckles": "many"}, now)
    assert carry_mod.record_of(edited, "skin")["changed"] is True
    assert carry_mod.record_of(answers, "skin")["confirmed"] is False  # the input is left alone


# --- the entry point ----------------------------------------------------------------------------------------

def test_start_copies_history_encrypted_takes_identity_only_from_the_appointment_and_audits(app):
    earlier = earlier_submission(app)
    token, draft = start(app, earlier.id, language="es",
                         prefill={"first_name": "Ana", "email": "ana@example.com", "allergies": ["latex"],
                                  "consent_accurate": True, "signature_name": "Ana"})
    stored = drafts.get(app.extensions["intake.store"], token)
    assert stored.language == "es"
    assert stored.answers["first_name"] == "Ana" and stored.answers["email"] == "ana@example.com"
    assert stored.answers["allergies"] == ["lidocaine"]  # the earlier answer, not the prefill
    assert "consent_accurate" not in stored.answers and "signature_name" not in stored.answers
    assert "last_name" not in stored.answers and "date_of_birth" not in stored.answers
    with app.extensions["intake.store"].engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT answers FROM drafts WHERE id = ?", (draft.id,)).scalar()
    assert "lidocaine" not in str(raw) and "Levothyroxine" not in str(raw)  # encrypted at rest
    event = audit_rows(app)[-1]
    assert event.action == "history_carried" and event.submission_id == earlier.id
    assert event.detail == {"draft_id": draft.id, "sections": ["medical-history", "neurotoxin", "skin"],
                            "appointment_id": 7}
    assert "Maria" not in json.dumps(event.detail) and "lidocaine" not in json.dumps(event.detail)


def test_start_with_an_unknown_earlier_submission_is_refused_and_creates_nothing(app):
    with pytest.raises(returning.EarlierSubmissionMissing):
        start(app, "00000000-0000-0000-0000-000000000000")
    assert "history_carried" not in actions(app)


# --- the pages ----------------------------------------------------------------------------------------------

def test_a_carried_page_asks_is_this_still_right_filled_in(app, client):
    invite(app, client, earlier_submission(app).id)
    page = client.get("/intake/medical-history")
    assert page.status_code == 200
    assert "Is this still right?" in page.text
    assert "from the form you sent us on March 12, 2026" in page.text
    assert ">Yes, this is still right</button>" in page.text
    assert '<input checked id="allergies-0"' in page.text
    assert "Levothyroxine 50 mcg daily" in page.text
    # Each carried question is tagged; this visit's (pregnancy, skin problems now, smoking) are not.
    tags = page.text.split('<p class="carried-tag">From your last form</p>')
    assert len(tags) == 7
    tagged = [re.search(r'data-link-id="(\w+)"', part).group(1) for part in tags[1:]]
    assert tagged == ["conditions", "medications", "retinoid_last_use", "other_medications", "allergies",
                      "other_allergies"]
    # Identity is never carried: the first page is empty apart from what the appointment gives.
    about = client.get("/intake/about-you")
    assert "Is this still right?" not in about.text
    assert "López" not in about.text and "1986-04-12" not in about.text


def test_review_and_submit_refuse_until_every_carried_section_is_confirmed(app, client, patient):
    earlier = earlier_submission(app)
    token = invite(app, client, earlier.id)
    assert patient.post("about-you", PAGES["about-you"]).status_code == 302
    review = client.get("/intake/review")
    assert 'class="error-summary"' in review.text
    for section in ("medical-history", "neurotoxin", "skin"):
        assert f'id="carried-{section}"' in review.text
    assert review.text.count("Is this still right? Confirm or change it.") == 3
    assert "These answers come from your form of March 12, 2026" in review.text
    # Signing now is refused, with the message at the top of the review page, and nothing is stored.
    response = patient.post("consent", PAGES["consent"])
    assert response.status_code == 302 and response.location.endswith("/intake/review")
    again = client.get("/intake/review")
    assert "Please check the answers we brought forward from your last form before you submit." in again.text
    with app.extensions["intake.store"].reading() as session:
        assert session.scalars(select(Submission).where(Submission.id != earlier.id)).all() == []
    assert drafts.get(app.extensions["intake.store"], token).answers["consent_accurate"] is True  # nothing lost


def test_back_does_not_confirm_but_next_does(app, client, patient):
    token = invite(app, client, earlier_submission(app).id)
    store = app.extensions["intake.store"]
    fresh = {k: PAGES["medical-history"][k] for k in ("skin_conditions", "pregnancy", "smoking")}
    assert patient.post("medical-history", fresh, action="back").status_code == 302
    assert "medical-history" in returning.unconfirmed(drafts.get(store, token).answers)
    assert patient.post("medical-history", PAGES["medical-history"]).status_code == 302
    assert "medical-history" not in returning.unconfirmed(drafts.get(store, token).answers)
    page = client.get("/intake/medical-history")
    assert "You confirmed the answers brought forward from your form of March 12, 2026." in page.text
    assert ">Yes, this is still right</button>" not in page.text


def test_a_carried_page_with_an_error_is_not_confirmed(app, client, patient):
    token = invite(app, client, earlier_submission(app).id)
    response = patient.post("medical-history", {**PAGES["medical-history"], "smoking": ""})
    assert response.status_code == 422
    assert "Choose whether you smoke or vape." in response.text
    assert "medical-history" in returning.unconfirmed(drafts.get(app.extensions["intake.store"], token).answers)


def test_confirm_one_edit_one_and_submit_records_both(app, client, patient):
    earlier = earlier_submission(app)
    invite(app, client, earlier.id)
    assert patient.post("about-you", PAGES["about-you"]).status_code == 302
    assert patient.post("medical-history", PAGES["medical-history"]).status_code == 302
    assert patient.post("neurotoxin", PAGES["neurotoxin"]).status_code == 302
    edited = {**PAGES["skin"], "prior_procedures": ["peel", "laser"], "procedure_date_laser": "2026-06-01"}
    assert patient.post("skin", edited).status_code == 302
    assert 'class="error-summary"' not in client.get("/intake/review").text
    response = patient.post("consent", PAGES["consent"])
    assert response.status_code == 302 and response.location.endswith("/intake/thanks")
    with app.extensions["intake.store"].reading() as session:
        new = session.scalars(select(Submission).where(Submission.id != earlier.id)).one()
    record = new.answers[returning.CARRIED]
    assert record["submission_id"] == earlier.id and record["from"] == "2026-03-12"
    assert {sid: (r["confirmed"], r["changed"]) for sid, r in record["sections"].items()} == {
        "medical-history": (True, False), "neurotoxin": (True, False), "skin": (True, True)}
    assert new.answers["prior_procedures"] == ["peel", "laser"]
    assert new.answers["neurotoxin"] == EXPECTED["neurotoxin"]


def test_spanish_pages_ask_in_spanish(app, client, patient):
    invite(app, client, earlier_submission(app).id, language="es")
    client.post("/language", data={**hidden_fields(client.get("/").text), "lang": "es"})
    page = client.get("/intake/neurotoxin")
    assert "¿Sigue siendo correcto?" in page.text
    assert "12 de marzo de 2026" in page.text
    assert ">Sí, sigue siendo correcto</button>" in page.text
    assert "De su formulario anterior" in page.text
    review = client.get("/intake/review")
    assert "¿Sigue siendo correcto? Confírmelo o cámbielo." in review.text


# --- no way in but the staff invitation -------------------------------------------------------------------

def test_same_name_and_date_of_birth_on_a_fresh_form_reveal_nothing(app, client, patient):
    earlier = earlier_submission(app)
    walk_to_consent(patient)  # the same Maria López, born 1986-04-12, on the public start page
    for section in ("medical-history", "neurotoxin", "skin"):
        assert "Is this still right?" not in client.get(f"/intake/{section}").text
    # A patient cannot post a carried record, nor name an earlier submission.
    forged = {**PAGES["skin"], "_carried": json.dumps({"sections": {}}), "earlier_submission_id": earlier.id,
              "submission_id": earlier.id}
    assert patient.post("skin", forged).status_code == 302
    response = patient.post("consent", PAGES["consent"])
    assert response.location.endswith("/intake/thanks")
    with app.extensions["intake.store"].reading() as session:
        new = session.scalars(select(Submission).where(Submission.id != earlier.id)).one()
        events = session.scalars(select(AuditEvent.action)).all()
    assert returning.CARRIED not in new.answers
    assert "history_carried" not in events


def test_a_fresh_form_that_skips_the_history_carries_none_of_it(app, client, patient):
    earlier_submission(app)
    patient.start()
    assert patient.post("about-you", PAGES["about-you"]).status_code == 302
    page = client.get("/intake/medical-history")
    assert '<input checked id="allergies-0"' not in page.text and "Levothyroxine" not in page.text
    assert "Is this still right?" not in page.text
