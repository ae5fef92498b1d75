"""GET /api/questionnaire returns a valid FHIR R4 Questionnaire built from the definition."""

from __future__ import annotations

import copy
import re

from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire


def walk(items):
    for item in items:
        yield item
        yield from walk(item.get("item", []))


def test_questionnaire_validates_as_fhir_r4(client):
    response = client.get("/api/questionnaire")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    resource = FhirQuestionnaire.model_validate(response.json)
    assert resource.status == "active"


def test_every_question_is_an_item(app, client):
    q = app.extensions["intake.questionnaire"]
    items = {i["linkId"]: i for i in walk(client.get("/api/questionnaire").json["item"])}
    assert set(q.by_id) <= set(items)
    assert items["neurotoxin"]["type"] == "group" and items["neurotoxin"]["repeats"] is True
    assert items["allergies"]["repeats"] is True and items["allergies"]["type"] == "choice"
    codes = [o["valueCoding"]["code"] for o in items["neurotoxin_product"]["answerOption"]]
    assert codes == list(q.by_id["neurotoxin_product"].codes)
    assert items["first_name"]["maxLength"] == 80 and items["first_name"]["required"] is True


def test_enable_when_is_expressed_where_fhir_can(client):
    items = {i["linkId"]: i for i in walk(client.get("/api/questionnaire").json["item"])}
    assert items["neurotoxin"]["enableWhen"] == [{"question": "neurotoxin_ever", "operator": "=", "answerBoolean": True}]
    assert items["isotretinoin_last_dose"]["enableWhen"][0]["answerCoding"]["code"] == "isotretinoin"
    assert items["pregnancy"]["enableWhen"][0]["operator"] == "!="
    shortfall = items["neurotoxin_shortfall"]
    assert shortfall["enableBehavior"] == "any" and len(shortfall["enableWhen"]) == 2


# --- Questionnaire invariants (FHIR R4, Questionnaire resource), checked over the whole resource --------------------
# Checked: que-0 (name is computer-friendly), que-1 (a group has items, a display item none), que-2 (linkIds unique),
# que-3 (no code on display items), que-4/que-5 (answerOption only on choice / open-choice, never with answerValueSet),
# que-6 (no required / repeats on display items), que-7 ("exists" compares with a boolean), que-8 / que-11 / que-13
# (initial values), que-9 (no readOnly display), que-10 (maxLength only on simple types), que-12 (enableBehavior when
# several enableWhen), and that every enableWhen names an earlier-defined question, answered with the type of that
# question. Not checkable here: que-0's uniqueness across a server, and terminology bindings.
SIMPLE_TYPES = {"boolean", "decimal", "integer", "string", "text", "url", "open-choice"}
ANSWER_FOR_TYPE = {"boolean": "answerBoolean", "choice": "answerCoding", "open-choice": "answerCoding",
                   "date": "answerDate", "integer": "answerInteger", "decimal": "answerDecimal", "string": "answerString",
                   "text": "answerString"}


def violations(resource: dict) -> list[str]:
    found = []
    if not re.fullmatch(r"[A-Z]([A-Za-z0-9_]){0,254}", resource.get("name", "A")):
        found.append("que-0: name")
    items = list(walk(resource.get("item", [])))
    ids = [i["linkId"] for i in items]
    if duplicates := sorted({x for x in ids if ids.count(x) > 1}):
        found.append(f"que-2: duplicate linkIds {duplicates}")
    by_id = {i["linkId"]: i for i in items}
    for i in items:
        kind, where = i["type"], i["linkId"]
        rules = [
            ("que-1", kind == "group" and not i.get("item") or kind == "display" and i.get("item")),
            ("que-3", kind == "display" and "code" in i),
            ("que-4", "answerOption" in i and "answerValueSet" in i),
            ("que-5", ("answerOption" in i or "answerValueSet" in i) and kind not in ("choice", "open-choice")),
            ("que-6", kind == "display" and ("required" in i or "repeats" in i)),
            ("que-8", kind in ("group", "display") and "initial" in i),
            ("que-9", kind == "display" and "readOnly" in i),
            ("que-10", "maxLength" in i and kind not in SIMPLE_TYPES),
            ("que-11", "answerOption" in i and "initial" in i),
            ("que-12", len(i.get("enableWhen", [])) > 1 and "enableBehavior" not in i),
            ("que-13", len(i.get("initial", [])) > 1 and not i.get("repeats")),
        ]
        found += [f"{rule}: {where}" for rule, broken in rules if broken]
        for condition in i.get("enableWhen", []):
            target = by_id.get(condition["question"])
            answer = next(k for k in condition if k.startswith("answer"))
            if condition["operator"] == "exists" and answer != "answerBoolean":
                found.append(f"que-7: {where}")
            elif target is None or target["type"] in ("group", "display"):
                found.append(f"enableWhen of {where} names no question: {condition['question']}")
            elif condition["operator"] != "exists" and answer != ANSWER_FOR_TYPE[target["type"]]:
                found.append(f"enableWhen of {where} compares {target['type']} {condition['question']} with {answer}")
    return found


def test_the_questionnaire_keeps_every_checkable_invariant(client):
    resource = client.get("/api/questionnaire").json
    assert violations(resource) == []
    assert re.fullmatch(r"https?://[^/]+/.+/Questionnaire/consultation", resource["url"])
    ids = [i["linkId"] for i in walk(resource["item"])]
    assert len(ids) == len(set(ids)) > 60


def test_the_invariant_check_finds_a_duplicate_linkid_as_the_section_neurotoxin_was(client):
    resource = client.get("/api/questionnaire").json
    broken = copy.deepcopy(resource)
    section = next(s for s in broken["item"] if s["linkId"] == "section-neurotoxin")
    section["linkId"] = "neurotoxin"  # the section group before issue 10: the same linkId as its repeating group
    assert violations(broken) == ["que-2: duplicate linkIds ['neurotoxin']"]
    broken["item"][0]["item"][0]["maxLength"] = 10
    broken["item"][0]["item"][0]["type"] = "date"
    assert any(v.startswith("que-10") for v in violations(broken))


def test_sections_are_groups_with_their_own_linkids_and_question_linkids_are_the_stored_keys(app, client):
    q = app.extensions["intake.questionnaire"]
    sections = client.get("/api/questionnaire").json["item"]
    assert [s["linkId"] for s in sections] == [f"section-{s.id}" for s in q.sections]
    assert {i["linkId"] for i in walk(sections)} >= set(q.by_id)
