"""Screening rules on the pure function: each fires, does not fire, and holds its window's boundary."""

from __future__ import annotations

import copy

import pytest
import yaml

from intake import screening
from intake.forms import section_errors
from intake.screening import RulesError, load_rules, parse_rules, screen
from tests.vignettes import DARK, EIGHT_ITEMS, FAIR, VIGNETTES, VISIT, born_years_before_visit, days_before, healthy, toxin_row


def fired(answers, **kwargs) -> set[str]:
    return {f.rule_id for f in screen(answers, VISIT, **kwargs)}


@pytest.mark.parametrize("name", list(VIGNETTES))
def test_vignette_raises_exactly_its_flags(name):
    answers, expected = VIGNETTES[name]
    assert fired(answers) == expected


@pytest.mark.parametrize("name", list(VIGNETTES))
def test_vignettes_are_answers_the_form_would_accept(app, name):
    with app.test_request_context():
        assert section_errors(app.extensions["intake.questionnaire"], VIGNETTES[name][0]) == {}


# (rule, answers that fire it, answers just outside it)
CASES = [
    ("pregnancy", healthy(pregnancy="breastfeeding"), healthy(pregnancy="none")),
    ("active_infection", healthy(skin_conditions=["cold_sore_active"]), healthy(skin_conditions=["cold_sores"])),
    ("neuromuscular", healthy(conditions=["neuromuscular"]), healthy(conditions=["epilepsy"])),
    ("toxin_component_allergy", healthy(allergies=["human_albumin"]), healthy(allergies=["latex"])),
    ("cows_milk_allergy", healthy(allergies=["cows_milk"]), healthy(allergies=["latex"])),
    ("aminoglycoside_relaxant", healthy(medications=["aminoglycoside_relaxant"]), healthy()),
    ("recent_neurotoxin", healthy(neurotoxin_ever=True, neurotoxin=[toxin_row(84)]),
     healthy(neurotoxin_ever=True, neurotoxin=[toxin_row(85)])),
    ("isotretinoin", healthy(medications=["isotretinoin"], isotretinoin_last_dose=days_before(182)),
     healthy(medications=["isotretinoin"], isotretinoin_last_dose=days_before(183))),
    ("keloid", healthy(skin_conditions=["keloid"]), healthy()),
    ("herpes_simplex", healthy(skin_conditions=["cold_sores"]), healthy()),
    ("bleeding_risk", healthy(conditions=["bleeding_disorder"]), healthy(conditions=["epilepsy"])),
    ("impaired_healing", healthy(conditions=["diabetes_uncontrolled"]), healthy(conditions=["diabetes_controlled"])),
    ("cancer_treatment", healthy(conditions=["cancer_treatment"], cancer_treatment_area="Breast"), healthy()),
    ("active_skin_disease", healthy(skin_conditions=["eczema_psoriasis_rosacea"]), healthy()),
    ("sunburn_tan", healthy(skin_conditions=["sunburn_tan"]), healthy()),
    ("topical_retinoid", healthy(medications=["topical_retinoid"], retinoid_last_use=days_before(3)),
     healthy(medications=["topical_retinoid"], retinoid_last_use=days_before(4))),
    ("toxin_before_needling", healthy(neurotoxin_ever=True, neurotoxin=[toxin_row(14)]),
     healthy(neurotoxin_ever=True, neurotoxin=[toxin_row(15)])),
    ("recent_peel", healthy(prior_procedures=["peel"], procedure_date_peel=days_before(30)),
     healthy(prior_procedures=["peel"], procedure_date_peel=days_before(31))),
    ("recent_filler_surgery", healthy(prior_procedures=["filler"], procedure_date_filler=days_before(182)),
     healthy(prior_procedures=["filler"], procedure_date_filler=days_before(183))),
    ("skin_type_pih", healthy(**{**DARK, "fitz_eye_colour": "light_blue_grey_green", "fitz_hair_colour": "sandy_red",
                                 "fitz_skin_colour": "reddish", "fitz_freckles": "none"}),  # 21/40: type IV
     healthy(**{**DARK, "fitz_eye_colour": "light_blue_grey_green", "fitz_hair_colour": "sandy_red",
                "fitz_skin_colour": "reddish", "fitz_freckles": "incidental"})),  # 20/40: type III
    ("anaesthetic_metal_allergy", healthy(allergies=["nickel_steel"]), healthy(allergies=["latex"])),
    ("implanted_device", healthy(conditions=["heart_device"]), healthy()),
    ("prior_droop", healthy(neurotoxin_ever=True, neurotoxin=[toxin_row(200, neurotoxin_side_effects=["brow_droop"])]),
     healthy(neurotoxin_ever=True, neurotoxin=[toxin_row(200, neurotoxin_side_effects=["headache"])])),
    ("suboptimal_result", healthy(neurotoxin_ever=True, neurotoxin=[toxin_row(200, neurotoxin_weeks_lasted=7)]),
     healthy(neurotoxin_ever=True, neurotoxin=[toxin_row(200, neurotoxin_weeks_lasted=8)], neurotoxin_full_result="yes")),
    ("brand_switch", healthy(neurotoxin_ever=True, neurotoxin=[toxin_row(200), toxin_row(400, "abobotulinumtoxinA")]),
     healthy(neurotoxin_ever=True, neurotoxin=[toxin_row(200), toxin_row(400, "unknown")])),
    ("bruising_supplements", healthy(medications=["nsaid_supplement"]), healthy()),
    # Under 18 on the visit date: the day before the 18th birthday fires, the birthday itself does not.
    ("minor_neurotoxin", healthy(date_of_birth=born_years_before_visit(18, days=1)),
     healthy(date_of_birth=born_years_before_visit(18))),
    ("minor_needling", healthy(date_of_birth=born_years_before_visit(18, days=1)),
     healthy(date_of_birth=born_years_before_visit(18))),
    ("latex_allergy", healthy(allergies=["latex"]), healthy(allergies=["nickel_steel"])),
    ("recent_microneedling", healthy(prior_procedures=["microneedling"], procedure_date_microneedling=days_before(28)),
     healthy(prior_procedures=["microneedling"], procedure_date_microneedling=days_before(29))),
    ("recent_laser", healthy(prior_procedures=["laser"], procedure_date_laser=days_before(28)),
     healthy(prior_procedures=["laser"], procedure_date_laser=days_before(29))),
    ("recent_thread_lift", healthy(prior_procedures=["threads"], procedure_date_threads=days_before(91)),
     healthy(prior_procedures=["threads"], procedure_date_threads=days_before(92))),
]


def test_every_rule_has_cases():
    assert {rule.id for rule in load_rules().rules} == {case[0] for case in CASES}


@pytest.mark.parametrize(("rule", "firing", "quiet"), CASES, ids=[c[0] for c in CASES])
def test_rule_fires_and_holds_its_boundary(rule, firing, quiet):
    assert rule in fired(firing)
    assert rule not in fired(quiet)


def test_messages_quote_the_patients_values():
    answers = healthy(medications=["isotretinoin"], isotretinoin_last_dose="2026-08-01", visit_date="2026-11-21")
    [flag] = screen(answers, screening.visit_date_of(answers, VISIT))
    assert flag.message == "Isotretinoin, last dose 2026-08-01 (16 weeks ago)"
    toxin = healthy(neurotoxin_ever=True, neurotoxin=[toxin_row(30, "abobotulinumtoxinA")])
    messages = {f.rule_id: f.message for f in screen(toxin, VISIT)}
    assert messages["recent_neurotoxin"] == f"Neurotoxin 4 weeks ago ({days_before(30)}, Dysport (abobotulinumtoxinA))"


def test_flags_come_stop_first():
    answers = healthy(pregnancy="pregnant", medications=["nsaid_supplement"], skin_conditions=["keloid"])
    assert [f.severity for f in screen(answers, VISIT)] == ["stop", "review", "note"]


def test_a_clinic_can_change_a_window():
    answers = healthy(medications=["isotretinoin"], isotretinoin_last_dose=days_before(120))
    assert "isotretinoin" in fired(answers)
    assert "isotretinoin" not in fired(answers, windows={"isotretinoin_days": 90})


@pytest.mark.parametrize(("windows", "answers", "rule"), [
    ({"adult_age_years": 21}, healthy(date_of_birth=born_years_before_visit(19)), "minor_neurotoxin"),
    ({"microneedling_days": 42}, healthy(prior_procedures=["microneedling"], procedure_date_microneedling=days_before(35)),
     "recent_microneedling"),
    ({"laser_days": 60}, healthy(prior_procedures=["laser"], procedure_date_laser=days_before(45)), "recent_laser"),
    ({"thread_lift_days": 182}, healthy(prior_procedures=["threads"], procedure_date_threads=days_before(120)),
     "recent_thread_lift"),
])
def test_a_clinic_can_change_the_new_windows(windows, answers, rule):
    assert rule not in fired(answers)
    assert rule in fired(answers, windows=windows)


def test_the_new_rules_messages_quote_the_patients_values():
    teen = healthy(date_of_birth=born_years_before_visit(14))
    messages = {f.rule_id: f.message for f in screen(teen, VISIT)}
    assert messages["minor_neurotoxin"] == "Minor: 14 years old on the visit date; cosmetic toxin is labelled for adults"
    laser = healthy(prior_procedures=["laser"], procedure_date_laser=days_before(10))
    [flag] = screen(laser, VISIT)
    assert flag.message == f"Laser {days_before(10)} (10 days ago): confirm area and type (ablative / non-ablative)"


def test_derived_facts():
    q = screening.default_questionnaire()
    answers = healthy(neurotoxin_ever=True, neurotoxin=[
        toxin_row(100, "abobotulinumtoxinA", neurotoxin_weeks_lasted=6),
        toxin_row(300, neurotoxin_weeks_lasted=12)], **DARK)
    facts = screening.facts(answers, VISIT, q)
    assert facts["age"] == 36
    assert facts["weeks_since_neurotoxin"] == 14
    assert facts["neurotoxin_duration_trend"] == "12 → 6 weeks (shorter)"
    assert facts["neurotoxin_brand_switched"] is True
    assert (facts["fitzpatrick_score"], facts["skin_type"]) == (33, "V")  # 33/40: V is 28-34


def test_skin_type_is_scored_on_the_published_0_to_40_scale():
    q = screening.default_questionnaire()
    assert len([x for x in q.by_id.values() if x.scored == "fitzpatrick"]) == 10
    facts = screening.facts(healthy(**FAIR), VISIT, q)
    assert (facts["fitzpatrick_score"], facts["skin_type"], facts["skin_type_number"]) == (14, "III", 3)


def test_an_eight_item_submission_gives_the_range_of_types_it_allows():
    """Questionnaire 2026.11.1 asked eight items: 27 of 32 leaves 27-35 on the 0-40 scale, so types IV to VI."""
    old = {k: v for k, v in healthy(**DARK).items() if k not in EIGHT_ITEMS}
    facts = screening.facts(old, VISIT, screening.default_questionnaire())
    assert facts["skin_type"] == "IV–VI" and facts["skin_type_number"] == 6  # 27/32 + 0..8 = 27..35
    assert "fitzpatrick_score" not in facts, "no 0-40 score is invented for eight items"
    fair = {k: v for k, v in healthy(**FAIR).items() if k not in EIGHT_ITEMS}
    assert screening.facts(fair, VISIT, screening.default_questionnaire())["skin_type"] == "II–III"  # 11..19


def test_skin_type_needs_at_least_eight_items():
    q = screening.default_questionnaire()
    assert screening.facts(healthy(fitz_tan=None), VISIT, q).get("skin_type")  # nine items: still a range
    three_missing = healthy(fitz_tan=None, fitz_last_exposure=None, fitz_face_exposure=None)
    assert screening.facts(three_missing, VISIT, q).get("skin_type") is None


def test_the_rules_dates_are_asked_when_the_procedure_is_ticked():
    """The procedure rules read dates the questionnaire really asks, and asks exactly when the procedure was ticked."""
    from intake.answers import is_enabled

    q = screening.default_questionnaire()
    for code, rule in (("microneedling", "recent_microneedling"), ("laser", "recent_laser"), ("threads", "recent_thread_lift")):
        [when] = [r.when for r in load_rules().rules if r.id == rule]
        (link_id, _window), = when["within_days"].items()
        question = q.by_id[link_id]
        assert question.type == "date" and question.required and question.not_future
        assert is_enabled(question, {"prior_procedures": [code]}) and not is_enabled(question, {"prior_procedures": ["none"]})
    assert q.by_id["date_of_birth"].required and "latex" in q.by_id["allergies"].codes


def _rules_data():
    return yaml.safe_load(screening.RULES_PATH.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["rules"][0].update(severity="urgent"), "severity one of"),
    (lambda d: d["rules"][0].update(when={"equals": {"no_such_question": 1}}), "unknown link_id(s) or fact(s)"),
    (lambda d: d["rules"][0].update(message="About {nothing}"), "['nothing']"),
    (lambda d: d["rules"][0].update(when={"within_days": {"isotretinoin_last_dose": "ages"}}), "unknown window(s)"),
    (lambda d: d["rules"][1].update(id=d["rules"][0]["id"]), "unique"),
    (lambda d: d["rules"][0].update(when={"sounds_like": 1}), "bad condition"),
    (lambda d: d["rules"][0].pop("source"), "needs exactly"),
])
def test_bad_rules_are_refused_with_the_rule_named(change, message):
    data = copy.deepcopy(_rules_data())
    change(data)
    with pytest.raises(RulesError, match="rules\\[") as error:
        parse_rules(data, screening.default_questionnaire())
    assert message in str(error.value)


@pytest.mark.parametrize(("days", "words"), [(0, "today"), (1, "1 day ago"), (10, "10 days ago"),
                                             (13, "13 days ago"), (14, "2 weeks ago"), (112, "16 weeks ago")])
def test_elapsed_time_reads_naturally(days, words):
    assert screening.ago(days) == words


def test_recent_toxin_message_in_days():
    answers = healthy(neurotoxin_ever=True, neurotoxin=[toxin_row(10)])
    messages = {f.rule_id: f.message for f in screen(answers, VISIT)}
    assert messages["recent_neurotoxin"].startswith("Neurotoxin 10 days ago (")
    assert messages["toxin_before_needling"] == "Neurotoxin 10 days ago: needling may spread toxin"


def test_pregnancy_flag_is_terse():
    [flag] = screen(healthy(pregnancy="trying"), VISIT)
    assert (flag.severity, flag.message) == ("stop", "Trying to conceive")


def test_a_misspelt_code_in_a_rule_is_refused():
    data = copy.deepcopy(_rules_data())
    data["rules"][0]["when"] = {"equals": {"pregnancy": "pregnnt"}}
    with pytest.raises(RulesError, match="'pregnnt', which is not one of its codes"):
        parse_rules(data, screening.default_questionnaire())


@pytest.mark.parametrize(("windows", "message"), [
    ({"isotretinon_days": 365}, "unknown window 'isotretinon_days'"),
    ({"isotretinoin_days": 0}, "positive whole number"),
    ({"isotretinoin_days": "6 months"}, "positive whole number"),
    ({"adult_age_years": 0}, "positive whole number of years"),
])
def test_a_clinics_bad_window_stops_start_up(tmp_path, windows, message):
    from intake import create_app

    with pytest.raises(RulesError, match=message):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "SCREENING_WINDOWS": windows})
