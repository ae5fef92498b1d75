"""Generated forms, tested directly with no HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from werkzeug.datastructures import MultiDict

from intake import forms, questionnaire, validators
from intake.answers import prune
from tests.walk import EXPECTED, PAGES


@pytest.fixture
def q(app):
    return app.extensions["intake.questionnaire"]


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


def page_form(q, section_id, data):
    section = q.section(section_id)
    formdata = MultiDict()
    for key, value in data.items():
        for v in value if isinstance(value, list) else [value]:
            formdata.add(key, v)
    return section, forms.form_class(section)(formdata=formdata, meta={"csrf": False})


def validate(q, section_id, data, answers=None):
    section, form = page_form(q, section_id, data)
    merged = forms.merge(section, answers or {}, forms.form_answers(section, form))
    ok = form.validate_enabled(forms.enabled_ids(section, merged))
    return ok, form


def test_every_section_has_one_field_per_question(q, ctx):
    for section in q.sections:
        form = forms.form_class(section)(meta={"csrf": False})
        assert [name for name in form._fields] == [question.link_id for question in section.questions]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("email", "maria", "Please enter an email address like name@example.com."),
    ("phone", "call me", "Please enter a phone number using digits, like 555 123 4567."),
    ("first_name", "", "Enter your first name."),
    ("date_of_birth", "", "Enter your date of birth."),
    ("preferred_contact", "", "Choose how we should contact you."),
    ("first_name", "x" * 81, "Please keep this to 80 characters or fewer."),
    ("date_of_birth", "1986-02-31", "Please enter a full date: day, month and year."),
    ("date_of_birth", (dt.date.today() + dt.timedelta(days=2)).isoformat(), "This date can't be in the future."),
    ("date_of_birth", "0198-04-12", "Please check the year."),
    ("visit_date", "2020-01-01", "This date can't be in the past."),
    ("sex_at_birth", "robot", "Please choose one of the options."),
])
def test_about_you_messages(q, ctx, field, value, message):
    ok, form = validate(q, "about-you", {**PAGES["about-you"], field: value})
    assert not ok
    assert message in [str(e) for e in form[field].errors]


def test_none_of_these_cannot_be_combined(q, ctx):
    ok, form = validate(q, "medical-history", {**PAGES["medical-history"], "allergies": ["none", "latex"]})
    assert not ok
    assert "“No known allergies” can't be ticked together with other answers." in form["allergies"].errors


def test_integer_and_range_messages(q, ctx):
    data = {**PAGES["neurotoxin"], "neurotoxin-0-neurotoxin_units": "lots", "neurotoxin-1-neurotoxin_weeks_lasted": "500"}
    ok, form = validate(q, "neurotoxin", data)
    assert not ok
    rows = form["neurotoxin"].entries
    assert rows[0].form["neurotoxin_units"].errors == ["Please enter a whole number, like 20."]
    assert rows[1].form["neurotoxin_weeks_lasted"].errors == ["Please enter a number from 0 to 104."]


def test_a_treatment_row_is_required_when_treated_before(q, ctx):
    ok, form = validate(q, "neurotoxin", {"neurotoxin_ever": "yes", "neurotoxin_full_result": "yes"})
    assert not ok
    assert form["neurotoxin"].errors == ["Add at least one past treatment."]


def test_hidden_questions_are_not_validated(q, ctx):
    ok, _form = validate(q, "neurotoxin", {"neurotoxin_ever": "no", "neurotoxin-0-neurotoxin_units": "lots"})
    assert ok


def test_pregnancy_is_asked_unless_male(q, ctx):
    data = {k: v for k, v in PAGES["medical-history"].items() if k != "pregnancy"}
    ok, form = validate(q, "medical-history", data, answers={"sex_at_birth": "female"})
    assert not ok and form["pregnancy"].errors
    ok, _form = validate(q, "medical-history", data, answers={"sex_at_birth": "male"})
    assert ok


def test_consent_boxes_must_be_ticked(q, ctx):
    ok, form = validate(q, "consent", {**PAGES["consent"], "consent_accurate": ""})
    assert not ok and form["consent_accurate"].errors == ["Tick the box to confirm that your information is true and complete."]


REQUIRED = [(s.id, x) for s in questionnaire.load().sections for x in s.questions if x.required]


@pytest.mark.parametrize(("section_id", "question"), REQUIRED, ids=[x.link_id for _s, x in REQUIRED])
def test_every_required_question_says_what_to_do_when_left_blank(q, ctx, section_id, question):
    """Its own message from the YAML, else the rule by type: never the bare "Please answer this question."."""
    # The answers that make every conditional question apply, except the one left blank.
    shown = {"neurotoxin_ever": "yes", "neurotoxin_full_result": "no", "conditions": ["cancer_treatment"],
             "medications": ["isotretinoin", "topical_retinoid"],
             "prior_procedures": [c for c in q.by_id["prior_procedures"].codes if c != "none"]}
    on_page = {x.link_id for x in q.section(section_id).questions}
    data = {k: val for k, val in shown.items() if k != question.link_id and k in on_page}
    ok, form = validate(q, section_id, data)
    assert not ok
    message = str(form[question.link_id].errors[0])
    assert message == (question.required_message or str(validators.required_message(question)))
    assert message != "Please answer this question."


@pytest.mark.parametrize(("kind", "message"), [
    ("choice", "Choose one of the answers."), ("multi-choice", "Tick at least one box."), ("date", "Enter a date."),
    ("integer", "Enter a number."), ("string", "Please answer this question."),
])
def test_the_rule_by_type_for_questions_without_their_own_message(ctx, kind, message):
    question = questionnaire.Question("x", kind, "X", required=True)
    assert str(validators.required_message(question)) == message
    tick = questionnaire.Question("x", "boolean", "X", required=True, widget="checkbox")
    assert str(validators.required_message(tick)) == "Tick the box to go on."


def test_answers_round_trip_through_the_forms(q, ctx):
    for section in q.sections:
        form = forms.form_class(section)(formdata=forms.answers_formdata(section, EXPECTED), meta={"csrf": False})
        own = {k: v for k, v in EXPECTED.items() if k in {x.link_id for x in section.questions}}
        assert forms.form_answers(section, form) == own


def test_stored_answers_revalidate_cleanly(q, ctx):
    assert forms.section_errors(q, EXPECTED) == {}
    broken = {**EXPECTED, "email": "nope"}
    assert list(forms.section_errors(q, broken)) == ["about-you"]


def test_prune_drops_hidden_and_unknown_answers(q):
    answers = {**EXPECTED, "isotretinoin_last_dose": "2026-01-01", "made_up": 1, "neurotoxin_ever": False}
    pruned = prune(q, answers)
    assert "isotretinoin_last_dose" not in pruned and "made_up" not in pruned
    assert "neurotoxin" not in pruned and "neurotoxin_shortfall" not in pruned


def test_empty_optional_inputs_as_a_browser_posts_them_are_fine(q, ctx):
    """Browsers send every input, empty ones as ""; that is no answer, not a bad number."""
    data = {**PAGES["neurotoxin"], "neurotoxin-0-neurotoxin_onset_days": "", "neurotoxin-1-neurotoxin_units": "",
            "neurotoxin_shortfall": ""}
    ok, form = validate(q, "neurotoxin", data)
    assert ok, form.errors
    ok, form = validate(q, "about-you", {**PAGES["about-you"], "visit_date": "", "preferred_name": ""})
    assert ok, form.errors


PNG_1X1 = ("data:image/png;base64,"
           "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def test_a_drawn_signature_is_kept_as_png(q, ctx):
    section, form = page_form(q, "consent", {**PAGES["consent"], "signature_drawing": PNG_1X1})
    assert form.validate_enabled(forms.enabled_ids(section, {}))
    assert forms.form_answers(section, form)["signature_drawing"] == PNG_1X1


@pytest.mark.parametrize("value", [
    "data:image/svg+xml;base64,PHN2Zy8+",                       # not a PNG
    "data:image/png;base64,not-base64!!",                        # not decodable
    "data:image/png;base64," + "QUJD" * 10,                      # decodes, but is not a PNG
    "data:image/png;base64," + "A" * 300_000,                    # too large
    "javascript:alert(1)",
])
def test_anything_but_a_small_png_drawing_is_refused(q, ctx, value):
    ok, form = validate(q, "consent", {**PAGES["consent"], "signature_drawing": value})
    assert not ok
    assert form["signature_drawing"].errors == [
        "The drawing could not be read. Please clear it and draw again, or leave it empty."]
