"""The face map: its drawing (drawn for this project) and what a zone-map answer says, as plain data.

The drawing is a front view in a 260 x 400 box; the patient's right is on the viewer's left, so
`*_r` zones sit left of the midline. Only the codes below ever become SVG ids or classes: the
templates loop over FACE_ZONES, and an answer only decides *whether* a known zone is marked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .questionnaire import Question, Questionnaire, QuestionnaireError

VIEWBOX = "0 0 260 400"

# Zone shapes, drawn as tiles that cover the face so every one is a finger-sized target on a 375px phone.
FACE_ZONES: dict[str, str] = {
    "forehead": "M38,96 C42,52 84,30 130,30 C176,30 218,52 222,96 Z",
    "glabella": "M108,96 L152,96 L148,138 L112,138 Z",
    "crows_feet_r": "M20,100 L56,104 L56,158 L24,162 C20,142 18,120 20,100 Z",
    "crows_feet_l": "M240,100 L204,104 L204,158 L236,162 C240,142 242,120 240,100 Z",
    "under_eye_r": "M58,138 Q82,148 106,138 L106,178 L58,178 Z",
    "under_eye_l": "M202,138 Q178,148 154,138 L154,178 L202,178 Z",
    "nose": "M112,140 L148,140 L152,196 L108,196 Z",
    "cheek_r": "M24,164 L56,160 L58,180 L106,180 L106,196 L80,200 L66,262 L42,256 C30,230 24,198 24,164 Z",
    "cheek_l": "M236,164 L204,160 L202,180 L154,180 L154,196 L180,200 L194,262 L218,256 C230,230 236,198 236,164 Z",
    "nasolabial_r": "M80,200 L106,198 L104,272 L66,262 Z",
    "nasolabial_l": "M180,200 L154,198 L156,272 L194,262 Z",
    "perioral": "M108,198 L152,198 L156,272 Q130,282 104,272 Z",
    "marionette_r": "M66,264 L104,274 L104,306 L80,300 Z",
    "marionette_l": "M194,264 L156,274 L156,306 L180,300 Z",
    "chin": "M106,276 Q130,284 154,276 L154,306 L150,326 Q130,338 110,326 L106,306 Z",
    "jawline_r": "M40,258 L64,264 L78,302 L104,308 L108,328 L100,338 C64,322 38,292 24,256 Z",
    "jawline_l": "M220,258 L196,264 L182,302 L156,308 L152,328 L160,338 C196,322 222,292 236,256 Z",
    "neck": "M102,340 Q130,352 158,340 L172,386 Q130,396 88,386 Z",
}

# Lines of the drawing itself: not zones, never interactive.
FEATURES: tuple[str, ...] = (
    "M130,22 C196,22 244,62 244,140 C244,218 214,288 162,324 Q130,344 98,324 C46,288 16,218 16,140 C16,62 64,22 130,22 Z",
    "M17,118 C4,116 2,150 8,164 C12,176 18,178 22,174",
    "M243,118 C256,116 258,150 252,164 C248,176 242,178 238,174",
    "M52,106 Q78,94 106,104", "M154,104 Q182,94 208,106",
    "M60,124 Q81,110 102,124 Q81,134 60,124 Z", "M158,124 Q179,110 200,124 Q179,134 158,124 Z",
    "M124,112 C122,140 112,164 114,176 Q130,188 146,176 C148,164 138,140 136,112",
    "M106,248 Q130,238 154,248 Q130,266 106,248 Z", "M106,248 Q130,253 154,248",
    "M94,330 L88,376 C60,382 30,388 8,398", "M166,330 L172,376 C200,382 230,388 252,398",
)
IRISES: tuple[tuple[int, int], ...] = ((81, 123), (179, 123))

COLOURS = {"zone": "#e9eef2", "marked": "#d9822b", "edge": "#ffffff", "prior": "#1f5f5b", "line": "#1d2733"}


def check(questionnaire: Questionnaire) -> None:
    """Every face zone of a zone-map question has a shape, and every shape a zone: fail at start-up otherwise."""
    for question in questionnaire.by_id.values():
        if question.type != "zone-map":
            continue
        face = {z.code for z in question.zones if z.region == "face"}
        if face != set(FACE_ZONES):
            raise QuestionnaireError(
                f"link_id {question.link_id!r}: face zones must match the drawing; "
                f"missing shapes {sorted(face - set(FACE_ZONES))}, unused shapes {sorted(set(FACE_ZONES) - face)}")


def _identity(text: str) -> str:
    return text


def marked(question: Question, value: Any, translate: Callable[[str], str] = _identity) -> list[dict]:
    """The marked zones in the definition's order: {code, label, region, concerns (words)}; unknown codes dropped."""
    value = value if isinstance(value, Mapping) else {}
    out = []
    for zone in question.zones:
        codes = [c for c in question.codes if c in set(value.get(zone.code) or ())]
        if codes:
            out.append({"code": zone.code, "label": translate(zone.label), "region": zone.region,
                        "concerns": [translate(question.choice(c).label) for c in codes]})
    return out


def prior_zones(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> list[str]:
    """Face zones treated with a neurotoxin before, from the toxin history's areas (each choice names its zones)."""
    areas = questionnaire.by_id.get("neurotoxin_areas")
    if areas is None or not answers.get("neurotoxin_ever"):
        return []
    picked = {code for row in answers.get("neurotoxin") or [] if isinstance(row, Mapping)
              for code in row.get("neurotoxin_areas") or ()}
    zones = {z for c in areas.choices if c.code in picked for z in c.zones}
    return [code for code in FACE_ZONES if code in zones]


def view(questionnaire: Questionnaire, answers: Mapping[str, Any], translate: Callable[[str], str] = _identity,
         link_id: str = "concern_areas") -> dict:
    """What the review page, the detail page and the PDF draw: marked face and body zones, prior-treatment zones."""
    answers = current(answers)
    question = questionnaire.by_id.get(link_id)
    rows = marked(question, answers.get(link_id), translate) if question and question.type == "zone-map" else []
    prior = prior_zones(questionnaire, answers)
    labels = {z.code: translate(z.label) for z in question.zones} if question else {}
    return {
        "face": [r for r in rows if r["region"] == "face"],
        "body": [r for r in rows if r["region"] == "body"],
        "marked_codes": [r["code"] for r in rows],
        "prior": prior,
        "prior_only": [{"code": c, "label": labels.get(c, c)} for c in prior if c not in {r["code"] for r in rows}],
    }


def drawing() -> dict:
    """The drawing's fixed parts, for templates/_zone_map.html."""
    return {"viewbox": VIEWBOX, "zones": FACE_ZONES, "features": FEATURES, "irises": IRISES, "colours": COLOURS}


def init_app(app: Any) -> None:
    from . import questionnaire_ext

    app.add_template_global(drawing, "zone_drawing")
    app.add_template_global(_identity, "zone_identity")
    app.add_template_global(lambda answers, translate=_identity: view(questionnaire_ext.get(), answers, translate), "zone_view")


# --- answers stored before the face map (questionnaire 2026.12.1 and earlier) ----------------------------------------
# concern_areas was a list of 11 area codes, and the concerns ("what") a separate list. An old area becomes the zones
# it covers, each with the concerns its "what" answer names (the same cross product the physician read before).
LEGACY_AREAS: dict[str, tuple[str, ...]] = {
    "forehead": ("forehead",),
    "between_brows": ("glabella",),
    "around_eyes": ("crows_feet_r", "crows_feet_l", "under_eye_r", "under_eye_l"),
    "cheeks": ("cheek_r", "cheek_l"),
    "nose": ("nose",),
    "around_mouth": ("perioral",),
    "chin_jaw": ("chin", "jawline_r", "jawline_l"),
    "neck": ("neck",),
    "chest": ("chest",),
    "hands": ("hands",),
    "body": ("body_other",),
}
LEGACY_CONCERNS: dict[str, str] = {
    "fine_lines": "lines_rest", "deep_wrinkles": "lines_rest", "acne_scars": "texture", "scars": "texture",
    "stretch_marks": "texture", "pores": "texture", "texture": "texture", "dullness": "texture",
    "pigmentation": "pigment", "sun_damage": "pigment", "laxity": "laxity",
}
CONCERN_ORDER = ("lines_rest", "lines_moving", "volume", "texture", "pigment", "laxity", "other")


def legacy_zones(areas: list, concerns: Any) -> dict[str, list[str]]:
    """An old concern_areas list as a zone map; concerns it cannot place become "other"."""
    said = {LEGACY_CONCERNS[c] for c in concerns or () if c in LEGACY_CONCERNS}
    picked = [c for c in CONCERN_ORDER if c in said] or ["other"]
    out: dict[str, list[str]] = {}
    for area in areas:
        for zone in LEGACY_AREAS.get(area, ()):
            out[zone] = list(picked)
    return out


def upgrade_answers(answers: Any, link_id: str = "concern_areas") -> dict | None:
    """`answers` with an old list-shaped concern_areas turned into a zone map; None when there is nothing to do."""
    if not isinstance(answers, dict) or not isinstance(answers.get(link_id), list):
        return None
    return {**answers, link_id: legacy_zones(answers[link_id], answers.get("concerns"))}


def current(answers: Any) -> Any:
    """Answers as the face map reads them. A submission keeps the answers it was sealed with; this maps on read."""
    return upgrade_answers(answers) or answers
