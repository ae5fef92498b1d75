"""GET /api/questionnaire returns a valid FHIR R4 Questionnaire built from the definition."""

from __future__ import annotations

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
