"""The patient wizard, walked with the test client as a browser would."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from intake.models import Draft, Submission
from intake.store import drafts
from tests.conftest import Patient, hidden_fields
from tests.walk import EXPECTED, PAGES, walk_to_consent


def stored_submissions(app) -> list[Submission]:
    with app.extensions["intake.store"].reading() as session:
        return list(session.scalars(select(Submission)))


def test_start_page_sets_expectations(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "Test Clinic" in page.text
    assert "about 10 minutes" in page.text
    assert "Your privacy" in page.text


def test_whole_wizard_stores_exactly_what_was_sent(any_app):
    patient = Patient(any_app.test_client())
    walk_to_consent(patient)
    response = patient.post("consent", PAGES["consent"])
    assert response.status_code == 302 and response.location.endswith("/intake/thanks")
    thanks = patient.client.get("/intake/thanks")

    [row] = stored_submissions(any_app)
    assert row.answers == EXPECTED
    assert row.reference in thanks.text
    assert row.questionnaire_id == "consultation"
    assert row.questionnaire_version == any_app.extensions["intake.questionnaire"].version
    from intake.answers import sha256
    assert row.answers_sha256 == sha256(EXPECTED)
    assert row.patient_name == "maria lopez mari"  # folded for accent-insensitive search
    # The draft is gone: its answers now live only in the submission.
    with any_app.extensions["intake.store"].reading() as session:
        assert session.scalar(select(func.count()).select_from(Draft)) == 0


def test_hidden_answers_are_neither_validated_nor_stored(app, patient):
    patient.start()
    data = dict(PAGES["medical-history"])
    # An invalid date in a hidden question must not block the page.
    data["isotretinoin_last_dose"] = "not a date"
    assert patient.post("medical-history", data).status_code == 302
    draft = drafts.get(app.extensions["intake.store"], _token(patient))
    assert "isotretinoin_last_dose" not in draft.answers
    assert "cancer_treatment_area" not in draft.answers
    assert draft.answers["retinoid_last_use"] == PAGES["medical-history"]["retinoid_last_use"]


def _token(patient: Patient) -> str:
    return patient.resume_url().rsplit("/", 1)[1]


def test_turning_a_question_off_drops_its_answer(app, patient):
    walk_to_consent(patient)
    data = {**PAGES["neurotoxin"], "neurotoxin_ever": "no"}
    assert patient.post("neurotoxin", data).status_code == 302
    draft = drafts.get(app.extensions["intake.store"], _token(patient))
    assert draft.answers["neurotoxin_ever"] is False
    assert "neurotoxin" not in draft.answers and "neurotoxin_full_result" not in draft.answers


def test_errors_show_next_to_fields_and_in_a_summary(patient):
    patient.start()
    data = {**PAGES["about-you"], "email": "maria-at-example", "date_of_birth": "", "first_name": "x" * 81}
    response = patient.post("about-you", data)
    assert response.status_code == 422
    html = response.text
    assert 'id="error-summary"' in html
    assert ('<a href="#email"><span class="summary-question">Email</span> '
            '<span class="summary-message">Please enter an email address like name@example.com.</span></a>') in html
    assert ('<a href="#date_of_birth"><span class="summary-question">Date of birth</span> '
            '<span class="summary-message">Enter your date of birth.</span></a>') in html
    assert "Please keep this to 80 characters or fewer." in html
    assert 'id="email-error"' in html and 'aria-describedby="email-error"' in html
    # What was typed is still there.
    assert 'value="maria-at-example"' in html


def test_every_next_saves_the_valid_answers_even_when_the_page_has_errors(app, patient):
    patient.start()
    response = patient.post("about-you", {"first_name": "Maria", "email": "bad"})
    assert response.status_code == 422 and 'value="bad"' in response.text  # shown again, to be corrected
    draft = drafts.get(app.extensions["intake.store"], _token(patient))
    assert draft.answers == {"first_name": "Maria"}


@pytest.mark.parametrize("action", ["next", "back", "add_row:neurotoxin_treatments"])
def test_a_draft_never_stores_a_value_past_its_bounds(app, patient, action):
    patient.start()
    patient.post("about-you", {**PAGES["about-you"], "first_name": "A" * 100_000, "sex_at_birth": "bogus",
                               "last_name": "Nul\x00byte"}, action=action)
    answers = drafts.get(app.extensions["intake.store"], _token(patient)).answers
    assert "first_name" not in answers and "sex_at_birth" not in answers and "last_name" not in answers
    assert answers["email"] == PAGES["about-you"]["email"]


def test_back_saves_without_validating(app, patient):
    patient.start()
    patient.post("about-you", PAGES["about-you"])
    response = patient.post("medical-history", {"smoking": "current"}, action="back")
    assert response.status_code == 302 and response.location.endswith("/intake/about-you")
    draft = drafts.get(app.extensions["intake.store"], _token(patient))
    assert draft.answers["smoking"] == "current"


def test_draft_resumes_from_its_token_in_a_fresh_client(app, patient):
    patient.start()
    patient.post("about-you", PAGES["about-you"])
    resume = patient.resume_url()

    other_device = app.test_client()
    response = other_device.get(resume)
    assert response.status_code == 302 and response.location.endswith("/intake/medical-history")
    back = other_device.get("/intake/about-you")
    assert 'value="maria.lopez@example.com"' in back.text


def test_only_the_hash_of_the_resume_token_is_stored(app, patient):
    patient.start()
    token = _token(patient)
    assert len(token) >= 22  # at least 128 bits of base64
    with app.extensions["intake.store"].reading() as session:
        stored = session.scalars(select(Draft.token_hash)).all()
    assert token not in stored and drafts.hash_token(token) in stored


def test_expired_or_unknown_resume_link_explains_kindly(client):
    response = client.get("/intake/resume/not-a-real-token")
    assert response.status_code == 404
    assert "This link has expired" in response.text


def test_expired_csrf_token_returns_the_page_filled_in(app, patient):
    patient.start()
    page = patient.client.get("/intake/about-you")
    data = {**hidden_fields(page.text), **PAGES["about-you"], "csrf_token": "expired-or-forged", "action": "next"}
    response = patient.client.post("/intake/about-you", data=data)
    assert response.status_code == 200
    assert "your answers are still here" in response.text
    assert 'value="maria.lopez@example.com"' in response.text
    assert 'value="Maria"' in response.text
    # Nothing was saved without a valid token, and pressing Next again now works.
    assert drafts.get(app.extensions["intake.store"], _token(patient)).answers == {}
    again = {**hidden_fields(response.text), **PAGES["about-you"], "action": "next"}
    retry = patient.client.post("/intake/about-you", data=again)
    assert retry.status_code == 302


def test_lost_session_is_recovered_from_the_page(app, patient):
    patient.start()
    page = patient.client.get("/intake/about-you")
    tokens = hidden_fields(page.text)
    patient.client.delete_cookie("intake_session")
    response = patient.client.post("/intake/about-you", data={**tokens, **PAGES["about-you"], "action": "next"})
    assert response.status_code == 200
    assert 'value="Maria"' in response.text
    again = {**hidden_fields(response.text), **PAGES["about-you"], "action": "next"}
    retry = patient.client.post("/intake/about-you", data=again)
    assert retry.status_code == 302 and retry.location.endswith("/intake/medical-history")


def test_resubmit_and_back_then_submit_store_one_submission(app, patient):
    walk_to_consent(patient)
    page = patient.client.get("/intake/consent")
    data = {**hidden_fields(page.text), **PAGES["consent"], "action": "next"}
    first = patient.client.post("/intake/consent", data=data)
    second = patient.client.post("/intake/consent", data=data)  # double-click / resubmit
    assert first.location == second.location
    assert len(stored_submissions(app)) == 1


def test_concurrent_submits_with_one_token_leave_one_row(any_app):
    patient = Patient(any_app.test_client())
    walk_to_consent(patient)
    page = patient.client.get("/intake/consent")
    data = {**hidden_fields(page.text), **PAGES["consent"], "action": "next"}
    cookie = patient.client.get_cookie("intake_session").value
    results, barrier = [], threading.Barrier(6)

    def submit():
        client = any_app.test_client()
        client.set_cookie("intake_session", cookie)
        barrier.wait()
        response = client.post("/intake/consent", data=data)
        results.append((response.status_code, response.location))

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [(302, "/intake/thanks")] * 6
    assert len(stored_submissions(any_app)) == 1


def test_submit_refuses_until_every_section_is_complete(app, patient):
    patient.start()
    patient.post("about-you", PAGES["about-you"])
    response = patient.post("consent", PAGES["consent"])
    assert response.status_code == 302 and response.location.endswith("/intake/review")
    review = patient.client.get("/intake/review")
    assert "Some answers need your attention" in review.text
    assert stored_submissions(app) == []


def test_signature_must_be_given(patient):
    walk_to_consent(patient)
    response = patient.post("consent", {**PAGES["consent"], "signature_name": "", "consent_privacy": ""})
    assert response.status_code == 422
    assert 'Type your full name to sign</span> <span class="summary-message">Sign by typing your full name.' in response.text


def test_review_lists_every_answer_with_an_edit_link(patient):
    walk_to_consent(patient)
    review = patient.client.get("/intake/review").text
    for text in ("Maria", "Dysport (abobotulinumtoxinA)", "Crow&#39;s feet", "Penicillin (rash)", "A friend or family member"):
        assert text in review
    for section in ("about-you", "medical-history", "neurotoxin", "skin"):
        assert f'href="/intake/{section}?from=review"' in review


def test_rows_can_be_added_and_removed_without_javascript(app, patient):
    walk_to_consent(patient)
    page = patient.post("neurotoxin", {**PAGES["neurotoxin"]}, action="add_row:neurotoxin")
    assert page.status_code == 200
    assert 'name="neurotoxin-2-neurotoxin_product"' in page.text
    removed = patient.client.post("/intake/neurotoxin", data={
        **hidden_fields(page.text), **PAGES["neurotoxin"], "action": "remove_row:neurotoxin:0"})
    assert 'name="neurotoxin-1-neurotoxin_product"' not in removed.text
    draft = drafts.get(app.extensions["intake.store"], _token(patient))
    assert [r["neurotoxin_product"] for r in draft.answers["neurotoxin"]] == ["onabotulinumtoxinA"]


def test_a_post_without_csrf_is_refused_outside_the_wizard(client):
    response = client.post("/intake/start-over")
    assert response.status_code in (302, 400)
    assert "Traceback" not in response.text


def test_oversized_request_gets_a_page_for_people(client):
    response = client.post("/intake/about-you", data={"visit_reason": "x" * 600_000})
    assert response.status_code == 413
    assert "too much to send" in response.text


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/intake/no-such-section")
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_without_javascript_conditional_questions_say_when_they_apply(patient):
    patient.start()
    page = patient.client.get("/intake/medical-history").text
    hint = "Answer this only if you chose “Isotretinoin (Accutane) now or in the past year” above."
    assert f'<noscript><p class="hint when-hint">{hint}' in page
    neurotoxin = patient.client.get("/intake/neurotoxin").text
    assert "Answer this only if you chose “Partly” or “No” above." in neurotoxin
