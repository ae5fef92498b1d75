"""The questionnaire as a FHIR R4 Questionnaire resource (plain dicts, no Flask)."""

from __future__ import annotations

from typing import Any

from .questionnaire import Question, Questionnaire

TYPE_MAP = {
    "string": "string", "text": "text", "integer": "integer", "decimal": "decimal", "date": "date",
    "boolean": "boolean", "choice": "choice", "open-choice": "open-choice", "multi-choice": "choice",
    "attachment": "attachment", "group": "group",
}
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"


def canonical_url(questionnaire_id: str) -> str:
    """The Questionnaire's canonical URL; QuestionnaireResponses point at it with |version."""
    return f"urn:intake:questionnaire:{questionnaire_id}"


def code_system(questionnaire: Questionnaire, link_id: str) -> str:
    """The URI naming the answer codes of one question."""
    return f"urn:intake:{questionnaire.id}:{link_id}"


def _answer(questionnaire: Questionnaire, target: Question, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"answerBoolean": value}
    if target.choices:
        return {"answerCoding": {"system": code_system(questionnaire, target.link_id), "code": value}}
    if isinstance(value, int):
        return {"answerInteger": value}
    return {"answerString": str(value)}


def _simple(questionnaire: Questionnaire, cond: dict) -> dict[str, Any] | None:
    """One enableWhen entry for a leaf condition, or None if FHIR cannot say it."""
    (op, arg), = cond.items()
    if op == "answered":
        return {"question": arg, "operator": "exists", "answerBoolean": True}
    negate = op == "not"
    if negate:
        (op, arg), = arg.items()
    if op not in ("equals", "includes"):
        return None
    (link_id, value), = arg.items()
    target = questionnaire.by_id[link_id]
    return {"question": link_id, "operator": "!=" if negate else "=", **_answer(questionnaire, target, value)}


def enable_when(questionnaire: Questionnaire, cond: dict) -> dict[str, Any] | None:
    """Translate a condition to enableWhen/enableBehavior, where FHIR can express it."""
    (op, arg), = cond.items()
    if op in ("all", "any"):
        parts = [_simple(questionnaire, c) for c in arg]
        if any(p is None for p in parts):
            return None
        return {"enableWhen": parts, "enableBehavior": op}
    part = _simple(questionnaire, cond)
    return {"enableWhen": [part]} if part else None


def item(questionnaire: Questionnaire, question: Question) -> dict[str, Any]:
    out: dict[str, Any] = {"linkId": question.link_id, "text": question.text, "type": TYPE_MAP[question.type]}
    if question.required:
        out["required"] = True
    if question.type == "multi-choice" or question.repeats:
        out["repeats"] = True
    if question.max_length:
        out["maxLength"] = question.max_length
    if question.type in ("integer", "decimal"):
        kind = "valueInteger" if question.type == "integer" else "valueDecimal"
        out["extension"] = [{"url": MIN_VALUE, kind: question.min}, {"url": MAX_VALUE, kind: question.max}]
    if question.choices:
        out["answerOption"] = [
            {"valueCoding": {"system": code_system(questionnaire, question.link_id), "code": c.code, "display": c.label}}
            for c in question.choices
        ]
    if question.enable_when and (expressed := enable_when(questionnaire, question.enable_when)):
        out.update(expressed)
    children = [item(questionnaire, child) for child in question.items]
    if question.help:
        children.insert(0, {
            "linkId": f"{question.link_id}.help", "text": question.help, "type": "display",
            "extension": [{"url": ITEM_CONTROL, "valueCodeableConcept": {"coding": [
                {"system": "http://hl7.org/fhir/questionnaire-item-control", "code": "help"}]}}],
        })
    if children:
        out["item"] = children
    return out


def questionnaire(q: Questionnaire) -> dict[str, Any]:
    """Return the definition as a FHIR R4 Questionnaire resource."""
    return {
        "resourceType": "Questionnaire",
        "id": q.id,
        "url": canonical_url(q.id),
        "version": q.version,
        "name": q.id.title().replace("-", ""),
        "title": q.title,
        "status": "active",
        "subjectType": ["Patient"],
        "item": [
            {"linkId": s.id, "text": s.title, "type": "group", "item": [item(q, question) for question in s.questions]}
            for s in q.sections
        ],
    }
