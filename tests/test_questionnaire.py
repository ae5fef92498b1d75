"""The questionnaire definition: the real file loads, and every kind of mistake is named."""

from __future__ import annotations

import copy

import pytest
import yaml

from intake import questionnaire
from intake.questionnaire import QuestionnaireError

CLINICAL_SECTIONS = ["about-you", "medical-history", "neurotoxin", "skin", "consent"]


@pytest.fixture(scope="module")
def real():
    return questionnaire.load()


def test_real_definition_covers_every_section(real):
    assert [s.id for s in real.sections] == CLINICAL_SECTIONS
    assert real.version


@pytest.mark.parametrize("link_id", [
    "first_name", "preferred_name", "date_of_birth", "sex_at_birth", "phone", "email", "preferred_contact",
    "emergency_contact_name", "referral_source", "visit_reason", "conditions", "skin_conditions", "pregnancy",
    "medications", "isotretinoin_last_dose", "retinoid_last_use", "other_medications", "allergies", "other_allergies",
    "smoking", "neurotoxin_ever", "neurotoxin", "neurotoxin_product", "neurotoxin_date", "neurotoxin_areas",
    "neurotoxin_units", "neurotoxin_onset_days", "neurotoxin_weeks_lasted", "neurotoxin_satisfaction",
    "neurotoxin_side_effects", "neurotoxin_full_result", "neurotoxin_shortfall", "concerns", "acne_scar_type",
    "concern_areas", "concern_severity", "sun_exposure", "tanning_beds", "spf_use", "skincare_routine",
    "prior_procedures", "downtime", "upcoming_event", "goals", "consent_accurate", "consent_privacy",
    "photo_consent_chart", "photo_consent_marketing", "signature_name",
])
def test_clinical_questions_are_present(real, link_id):
    assert link_id in real.by_id


def test_every_free_text_answer_is_bounded(real):
    for q in real.by_id.values():
        if q.type in ("string", "text", "open-choice"):
            assert q.max_length and q.max_length <= 10_000, q.link_id


def test_neurotoxin_products_and_fitzpatrick_scores(real):
    product = real.by_id["neurotoxin_product"]
    assert {"onabotulinumtoxinA", "abobotulinumtoxinA", "incobotulinumtoxinA", "prabotulinumtoxinA",
            "daxibotulinumtoxinA", "letibotulinumtoxinA", "unknown"} == set(product.codes)
    scored = [q for q in real.by_id.values() if q.scored == "fitzpatrick"]
    assert len(scored) == 10, "the published self-assessment: ten items, a total of 0-40"
    assert all(sorted(c.score for c in q.choices) == [0, 1, 2, 3, 4] for q in scored)
    assert real.version == "2026.12.2", "the face map (issue 13) bumped the version"


MINIMAL = {
    "id": "t", "version": "1", "title": "T",
    "sections": [{"id": "one", "title": "One", "questions": [
        {"link_id": "name", "type": "string", "text": "Name", "max_length": 10},
        {"link_id": "colour", "type": "choice", "text": "Colour", "choices": [{"code": "red", "label": "Red"}]},
        {"link_id": "rows", "type": "group", "text": "Rows", "repeats": True, "max_repeats": 3,
         "items": [{"link_id": "rows_age", "type": "integer", "text": "Age", "min": 0, "max": 120}]},
    ]}],
}


def mutate(change):
    data = copy.deepcopy(MINIMAL)
    change(data)
    return data


def questions(data):
    return data["sections"][0]["questions"]


def test_minimal_definition_parses():
    parsed = questionnaire.parse(copy.deepcopy(MINIMAL))
    assert parsed.by_id["rows_age"].max == 120


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: questions(d)[0].update(link_id="Bad-Id"), "'Bad-Id'"),
    (lambda d: questions(d)[1].update(link_id="name"), "duplicate link_id 'name'"),
    (lambda d: questions(d)[0].update(type="slider"), "unknown type 'slider'"),
    (lambda d: questions(d)[1].update(choices=[]), "needs choices"),
    (lambda d: questions(d)[1]["choices"].append({"code": "red", "label": "Again"}), "choice codes must be unique"),
    (lambda d: questions(d)[1]["choices"].append({"code": True, "label": "Yes"}), "must be text"),
    (lambda d: questions(d)[0].pop("max_length"), "needs a max_length"),
    (lambda d: questions(d)[0].update(max_length=10**6), "needs a max_length"),
    (lambda d: questions(d)[0].update(colour="blue"), "unknown keys ['colour']"),
    (lambda d: questions(d)[0].update(text=""), "text is required"),
    (lambda d: questions(d)[0].update(required=False, required_message="Enter your name."), "only for a required question"),
    (lambda d: questions(d)[0].update(required=True, required_message=""), "required_message is text"),
    (lambda d: questions(d)[0].update(choices=[{"code": "a", "label": "A"}]), "cannot have choices"),
    (lambda d: questions(d)[2]["items"][0].pop("max"), "numeric min and max"),
    (lambda d: questions(d)[2]["items"][0].update(link_id="age"), "must be named rows_<name>"),
    (lambda d: questions(d)[2].update(items=[]), "a group needs items"),
    (lambda d: questions(d)[2].pop("max_repeats"), "positive max_repeats"),
    (lambda d: questions(d)[2]["items"].append({"link_id": "rows_sub", "type": "group", "text": "Sub",
                                                "items": [MINIMAL["sections"][0]["questions"][0]]}), "cannot be nested"),
    (lambda d: questions(d)[0].update(enable_when={"equals": {"nope": 1}}), "unknown link_id(s) ['nope']"),
    (lambda d: questions(d)[0].update(enable_when={"resembles": {"colour": "red"}}), "unknown condition operator"),
    (lambda d: questions(d)[0].update(enable_when={"equals": {"colour": "blue"}}), "not one of its codes"),
    (lambda d: questions(d)[0].update(enable_when={"all": []}), "non-empty list"),
    (lambda d: questions(d)[1]["choices"].append({"code": "x", "label": "X", "exclusive": True}), "exclusive"),
    (lambda d: questions(d)[1].update(scored="fitz"), "needs a score"),
    (lambda d: d["sections"][0].update(id="review"), "must be kebab-case and not one of"),
    (lambda d: d["sections"].append(copy.deepcopy(d["sections"][0])), "duplicate section id"),
    (lambda d: d.pop("version"), "missing 'version'"),
    (lambda d: questions(d).append({"link_id": "pic", "type": "attachment", "text": "Pic", "accept": "text/html",
                                    "max_bytes": 10}), "an attachment needs accept"),
])
def test_loader_names_the_bad_item(change, message):
    with pytest.raises(QuestionnaireError) as error:
        questionnaire.parse(mutate(change), "bad.yaml")
    assert message in str(error.value)
    assert str(error.value).startswith("bad.yaml")


def test_loader_rejects_invalid_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("sections: [unclosed", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="broken.yaml: not valid YAML"):
        questionnaire.load(path)


def test_a_process_reads_a_definition_once_and_again_when_the_file_changes(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text(questionnaire.DEFAULT_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    first = questionnaire.load(path)
    assert questionnaire.load(path) is first  # each app a process creates shares the parsed definition
    path.write_text(path.read_text(encoding="utf-8").replace("title: ", "title: Revised ", 1), encoding="utf-8")
    revised = questionnaire.load(path)
    assert revised is not first and revised.title == f"Revised {first.title}"


def test_bad_definition_stops_app_start_up(tmp_path):
    from intake import create_app

    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump(mutate(lambda d: questions(d)[0].update(type="slider"))), encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="link_id 'name'.*unknown type 'slider'"):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "QUESTIONNAIRE_PATH": str(path)})
