"""The face map (issue 13) with the test client: the no-JavaScript fieldset, the review page, the staff detail page,
the PDF, the exports, Spanish, and the whitelist that keeps patient text out of the drawing."""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

import csv
import io
import re

import pytest

from intake import questionnaire, renders, zonemap
from tests.staff_support import add_submission, as_role, users  # noqa: F401
from tests.test_pdf import pdf_text
from tests.walk import EXPECTED, PAGES, walk_to_consent

Q = questionnaire.load()
MAP = Q.by_id["concern_areas"]
HOSTILE = '"><script>alert(1)</script><svg onload=alert(2)>'


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def zone_paths(svg: str) -> dict[str, str]:
    """The class attribute of each zone shape, by its zone code; every shape of the drawing is there once."""
    found = dict((code, cls) for cls, code in re.findall(r'<path d="[^"]+" class="(zone[^"]*)"[^>]*?data-zone="([^"]+)"', svg))
    assert list(found) == list(zonemap.FACE_ZONES)
    return found


def test_the_definition_has_the_zones_left_and_right_and_the_concerns():
    face = [z.code for z in MAP.zones if z.region == "face"]
    assert face == list(zonemap.FACE_ZONES)
    for pair in ("crows_feet", "under_eye", "cheek", "nasolabial", "marionette", "jawline"):
        assert f"{pair}_r" in face and f"{pair}_l" in face
    assert {"forehead", "glabella", "perioral", "chin", "neck"} <= set(face)
    assert {"abdomen", "hips_thighs", "arms", "back", "chest"} <= {z.code for z in MAP.zones if z.region == "body"}
    assert list(MAP.codes[:6]) == ["lines_rest", "lines_moving", "volume", "texture", "pigment", "laxity"]
    # the toxin history's areas line up with the same zones
    areas = Q.by_id["neurotoxin_areas"]
    assert areas.choice("crows_feet").zones == ("crows_feet_r", "crows_feet_l")
    assert all(set(c.zones) <= set(zonemap.FACE_ZONES) and c.zones for c in areas.choices)


def test_a_definition_naming_an_unknown_zone_fails_at_start_up():
    data = {"id": "x", "version": "1", "title": "x", "sections": [{"id": "s", "title": "s", "questions": [
        {"link_id": "where", "type": "zone-map", "text": "Where?",
         "zones": [{"code": "forehead", "label": "F", "region": "face"}],
         "choices": [{"code": "volume", "label": "Volume"}]},
        {"link_id": "tox", "type": "multi-choice", "text": "Tox", "choices": [{"code": "a", "label": "A", "zones": ["elbow"]}]},
    ]}]}
    with pytest.raises(questionnaire.QuestionnaireError, match="unknown zones"):
        questionnaire.parse(data)
    data["sections"][0]["questions"][0]["zones"][0]["code"] = "Bad Code"
    with pytest.raises(questionnaire.QuestionnaireError, match="snake_case"):
        questionnaire.parse(data)


def test_without_javascript_the_map_is_a_fieldset_of_checkboxes_per_zone(patient):
    walk_to_consent(patient)
    page = patient.client.get("/intake/skin").text
    assert '<fieldset class="zone-map-field" id="concern_areas"' in page
    # every zone: a named group of concern checkboxes; the walk's answers come back ticked
    for zone in MAP.zones:
        assert f'<details class="zone" id="concern_areas-{zone.code}"' in page
        for concern in MAP.choices:
            box = f'id="concern_areas-{zone.code}-{concern.code}" value="{concern.code}"'
            assert f'name="concern_areas-{zone.code}" {box}' in page
    assert re.search(r'id="concern_areas-cheek_l-volume" value="volume"\s+checked', page)
    assert '<div class="zone-map" data-zone-map="concern_areas"' in page and "hidden>" in page  # the drawing waits for JS


def test_marked_zones_are_stored_as_a_zone_map_and_shown_on_the_review_page(app, patient):
    walk_to_consent(patient)
    data = {k: v for k, v in PAGES["skin"].items() if not k.startswith("concern_areas-")}
    data |= {"concern_areas-glabella": ["lines_moving", "lines_rest"], "concern_areas-neck": "laxity",
             "concern_areas-abdomen": "texture"}
    assert patient.post("skin", data).status_code == 302
    review = patient.client.get("/intake/review").text
    assert "Between the brows (the “11s”)</strong>: Lines at rest, Lines when moving" in review
    assert "<strong>Neck</strong>: Loose or sagging skin" in review and "<strong>Abdomen</strong>: Texture or scars" in review
    (drawing,) = svgs(review)
    classes = zone_paths(drawing)
    assert "is-marked" in classes["glabella"] and "is-marked" in classes["neck"] and "is-marked" not in classes["chin"]
    # the toxin history (forehead, crow's feet, glabella) shows as "treated before"
    assert "is-prior" in classes["forehead"] and "is-prior" in classes["crows_feet_l"] and "is-prior" not in classes["neck"]
    assert "treated with a neurotoxin before" in review


def test_a_zone_map_is_required_and_a_foreign_concern_is_refused_with_a_message(patient):
    walk_to_consent(patient)
    data = {k: v for k, v in PAGES["skin"].items() if not k.startswith("concern_areas-")}
    page = patient.post("skin", data)
    assert page.status_code == 422 and "Mark at least one area and what concerns you there." in page.text
    page = patient.post("skin", data | {"concern_areas-chin": "botox-please"})
    assert page.status_code == 422 and "Please choose one of the options." in page.text


def test_hostile_zone_codes_and_concerns_never_reach_the_drawing(app, patient, as_role):
    walk_to_consent(patient)
    data = {k: v for k, v in PAGES["skin"].items() if not k.startswith("concern_areas-")}
    # an unknown key is never read; a known zone with a foreign concern is a field error
    response = patient.post("skin", data | {f"concern_areas-{HOSTILE}": "volume", "concern_areas-chin": "volume"})
    assert response.status_code == 302
    page = patient.post("skin", data | {"concern_areas-chin": HOSTILE})
    assert page.status_code == 422
    for drawing in svgs(page.text) + svgs(patient.client.get("/intake/review").text):
        assert "script" not in drawing and "onload" not in drawing and "alert" not in drawing
    # stored answers edited behind the app's back: still only known codes become ids or classes
    submission = add_submission(app, concern_areas={HOSTILE: ["volume"], "forehead": [HOSTILE, "volume"], "chin": "x"},
                                first_name=HOSTILE)
    detail = as_role("physician").get(f"/staff/submissions/{submission.id}").text
    for drawing in svgs(detail):
        assert "script" not in drawing and "onload" not in drawing and "alert" not in drawing
        known = {f"zm-{z}" for z in zonemap.FACE_ZONES} | set(zonemap.FACE_ZONES)
        assert set(re.findall(r'(?:id|data-zone)="([^"]+)"', drawing)) <= known
    with app.app_context():
        text, _reader = pdf_text(renders.ensure_pdf(submission))
    assert "Forehead: volume loss" in text


def test_the_detail_page_and_pdf_page_one_draw_the_map_with_the_concerns_in_words(app, as_role):
    submission = add_submission(app)
    detail = as_role("physician").get(f"/staff/submissions/{submission.id}").text
    assert "Face map" in detail and "<strong>Cheek, left</strong>: Volume loss, Texture or scars" in detail
    (drawing,) = svgs(detail)
    classes = zone_paths(drawing)
    assert "is-marked" in classes["cheek_l"] and "is-marked" in classes["crows_feet_r"] and "is-marked" not in classes["chin"]
    assert "is-prior" in classes["glabella"]
    with app.app_context():
        text, reader = pdf_text(renders.ensure_pdf(submission))
    page_one = re.sub(r"\s+", " ", reader.pages[0].extract_text())
    assert "Crow's feet, right: lines when moving (toxin before)" in page_one
    assert "Cheek, left: volume loss, texture or scars" in page_one
    assert "toxin before" in page_one and "marked" in page_one
    assert "Skin type" in page_one.title() or "SKIN TYPE" in page_one  # the map keeps page 1 to one page


def test_csv_has_a_column_per_zone_listing_its_concerns(app, as_role):
    add_submission(app)
    response = as_role("physician").get("/staff/export?format=csv")
    (row,) = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert row["concern_areas_cheek_l"] == "volume; texture"
    assert row["concern_areas_crows_feet_r"] == "lines_moving" and row["concern_areas_chin"] == ""
    assert "concern_areas" not in row and all(f"concern_areas_{z.code}" in row for z in MAP.zones)


def test_fhir_has_a_multi_choice_item_of_zones_with_their_concerns(app, as_role, client):
    add_submission(app)
    bundle = as_role("physician").get("/staff/export?format=fhir").json
    items = [i for e in bundle["entry"] for s in e["resource"]["item"] for i in s["item"] if i["linkId"] == "concern_areas"]
    (item,) = items
    zones = {a["valueCoding"]["code"]: [c["valueCoding"]["code"] for c in a["item"][0]["answer"]] for a in item["answer"]}
    assert zones == EXPECTED["concern_areas"] | {"cheek_l": ["volume", "texture"]}
    assert item["answer"][0]["item"][0]["linkId"] == "concern_areas.concern"
    definition = {i["linkId"]: i for s in client.get("/api/questionnaire").json["item"] for i in s["item"]}
    assert definition["concern_areas"]["type"] == "choice" and definition["concern_areas"]["repeats"] is True
    assert [o["valueCoding"]["code"] for o in definition["concern_areas"]["answerOption"]] == [z.code for z in MAP.zones]
    assert definition["concern_areas"]["item"][-1]["linkId"] == "concern_areas.concern"


def test_the_map_speaks_spanish(patient):
    patient.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    walk_to_consent(patient)
    page = patient.client.get("/intake/skin").text
    assert "Patas de gallo, derecha" in page and "Líneas al gesticular" in page and "Mapa de la cara" in page
    review = patient.client.get("/intake/review").text
    assert "<strong>Patas de gallo, derecha</strong>: Líneas al gesticular" in review and "Su derecha" in review
