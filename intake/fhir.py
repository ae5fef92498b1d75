"""The questionnaire as a FHIR R4 Questionnaire resource (plain dicts, no Flask).

linkIds: a question's is its link_id. A section's group is "section-<id>": section ids
are wizard URLs and may equal a question's link_id (the "neurotoxin" section holds
the "neurotoxin" group), and FHIR wants every linkId unique (invariant que-2).
Stored answers are keyed by question link_ids, so none of them changed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .questionnaire import Question, Questionnaire, Section

# The default canonical base; a clinic sets FHIR_BASE_URL to a URL it controls (README, Configuration).
DEFAULT_BASE_URL = "https://intake.example.org/fhir"

TYPE_MAP = {
    "string": "string", "text": "text", "integer": "integer", "decimal": "decimal", "date": "date",
    "boolean": "boolean", "choice": "choice", "open-choice": "open-choice", "multi-choice": "choice",
    "attachment": "attachment", "group": "group", "zone-map": "choice",
}
# A zone map is a repeating choice of zones; each answered zone carries its concerns in a nested choice item.
CONCERN_TEXT = "Concern in this area"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"


def check_base_url(base: str) -> str:
    """The base the canonical URLs are built from: an absolute http(s) URL, else ValueError naming the setting."""
    parts = urlsplit(base or "")
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"FHIR_BASE_URL must be an absolute http(s) URL such as {DEFAULT_BASE_URL}, got {base!r}")
    return base.rstrip("/")


def canonical_url(questionnaire_id: str, base: str = DEFAULT_BASE_URL) -> str:
    """The Questionnaire's canonical URL; QuestionnaireResponses point at it with |version."""
    return f"{check_base_url(base)}/Questionnaire/{questionnaire_id}"


def section_link_id(section: Section) -> str:
    """A section's linkId: never one of the questions' (que-2)."""
    return f"section-{section.id}"


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


def concern_link_id(question: Question) -> str:
    """The linkId of a zone map's nested concern item: `.` keeps it apart from every snake_case link_id."""
    return f"{question.link_id}.concern"


def _options(questionnaire: Questionnaire, system_id: str, pairs: Any) -> list[dict[str, Any]]:
    return [{"valueCoding": {"system": code_system(questionnaire, system_id), "code": code, "display": label}}
            for code, label in pairs]


def item(questionnaire: Questionnaire, question: Question) -> dict[str, Any]:
    out: dict[str, Any] = {"linkId": question.link_id, "text": question.text, "type": TYPE_MAP[question.type]}
    if question.required:
        out["required"] = True
    if question.type in ("multi-choice", "zone-map") or question.repeats:
        out["repeats"] = True
    if question.max_length:
        out["maxLength"] = question.max_length
    if question.type in ("integer", "decimal"):
        kind = "valueInteger" if question.type == "integer" else "valueDecimal"
        out["extension"] = [{"url": MIN_VALUE, kind: question.min}, {"url": MAX_VALUE, kind: question.max}]
    if question.type == "zone-map":
        out["answerOption"] = _options(questionnaire, question.link_id, ((z.code, z.label) for z in question.zones))
    elif question.choices:
        out["answerOption"] = [
            {"valueCoding": {"system": code_system(questionnaire, question.link_id), "code": c.code, "display": c.label}}
            for c in question.choices
        ]
    if question.enable_when and (expressed := enable_when(questionnaire, question.enable_when)):
        out.update(expressed)
    children = [item(questionnaire, child) for child in question.items]
    if question.type == "zone-map":
        children.append({"linkId": concern_link_id(question), "text": CONCERN_TEXT, "type": "choice", "repeats": True,
                         "required": True, "answerOption": _options(
                             questionnaire, concern_link_id(question), ((c.code, c.label) for c in question.choices))})
    if question.help:
        children.insert(0, {
            "linkId": f"{question.link_id}.help", "text": question.help, "type": "display",
            "extension": [{"url": ITEM_CONTROL, "valueCodeableConcept": {"coding": [
                {"system": "http://hl7.org/fhir/questionnaire-item-control", "code": "help"}]}}],
        })
    if children:
        out["item"] = children
    return out


def questionnaire(q: Questionnaire, base: str = DEFAULT_BASE_URL) -> dict[str, Any]:
    """Return the definition as a FHIR R4 Questionnaire resource, its canonical URL under `base`."""
    return {
        "resourceType": "Questionnaire",
        "id": q.id,
        "url": canonical_url(q.id, base),
        "version": q.version,
        "name": q.id.title().replace("-", ""),
        "title": q.title,
        "status": "active",
        "subjectType": ["Patient"],
        "item": [
            {"linkId": section_link_id(s), "text": s.title, "type": "group",
             "item": [item(q, question) for question in s.questions] + photo_items(s)}
            for s in q.sections
        ],
    }


def photo_items(section: Section) -> list[dict[str, Any]]:
    """The patient's optional photos (issue 13): an attachment item at the end of the section they follow."""
    from .photos import FHIR_LINK_ID, FHIR_SECTION, FHIR_TEXT

    if section.id != FHIR_SECTION:
        return []
    return [{"linkId": FHIR_LINK_ID, "text": FHIR_TEXT, "type": "attachment", "repeats": True}]


EMERGENCY_CONTACT = {"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "C", "display": "Emergency Contact"}
PATIENT_ID = "patient"


def patient(answers: dict[str, Any], language: str = "") -> dict[str, Any]:
    """The respondent as a Patient, contained in their QuestionnaireResponse: name, birth date, contact details.

    An EMR matches it to its own record; Intake keeps no patient register, so it is contained, not referenced.
    """
    first, last = answers.get("first_name", ""), answers.get("last_name", "")
    names = [{"use": "official", "text": " ".join(p for p in (first, last) if p),
              **({"family": last} if last else {}), **({"given": [first]} if first else {})}]
    if answers.get("preferred_name"):
        names.append({"use": "usual", "given": [answers["preferred_name"]]})
    preferred = answers.get("preferred_contact")
    telecom = []
    if answers.get("phone"):
        if preferred == "text":
            telecom.append({"system": "sms", "value": answers["phone"], "use": "mobile", "rank": 1})
        telecom.append({"system": "phone", "value": answers["phone"], "use": "mobile",
                        "rank": 1 if preferred == "phone" else 2})
    if answers.get("email"):
        telecom.append({"system": "email", "value": answers["email"], "rank": 1 if preferred == "email" else 2})
    resource: dict[str, Any] = {"resourceType": "Patient", "id": PATIENT_ID, "name": names}
    if telecom:
        resource["telecom"] = telecom
    if answers.get("date_of_birth"):
        resource["birthDate"] = answers["date_of_birth"]
    if answers.get("emergency_contact_name") or answers.get("emergency_contact_phone"):
        contact: dict[str, Any] = {"relationship": [{"coding": [EMERGENCY_CONTACT]}]}
        if answers.get("emergency_contact_name"):
            contact["name"] = {"text": answers["emergency_contact_name"]}
        if answers.get("emergency_contact_phone"):
            contact["telecom"] = [{"system": "phone", "value": answers["emergency_contact_phone"]}]
        resource["contact"] = [contact]
    if language:
        resource["communication"] = [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": language}]},
                                      "preferred": True}]
    return resource
