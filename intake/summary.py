"""The physician's summary of one submission, as plain data for the PDF template.

Page 1 follows CLINICAL.md: flags by treatment (stop first), allergies, health
(conditions, medications, smoking, pregnancy), the neurotoxin history, concerns
and goals, skin type; then every answer, then the signature and the seal.

Page 1 stays one page for a typical patient: long free text is cut there (the
whole text is under "Every answer") and only the latest treatments are listed.
Flags and allergies are never cut.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from . import fitzpatrick, screening, zonemap
from . import seal as seal_mod
from .answers import format_answer, is_enabled
from .conditions import as_date, is_empty
from .questionnaire import Questionnaire
from .returning import history as carried

TREATMENT_GROUPS = (("both", "Both treatments"), ("neurotoxin", "Neurotoxin"), ("micro-needling", "Micro-needling"))
NONE_CODES = ("none",)
# Page 1 budget: quoted free text beyond this many characters, and treatments beyond the latest few, continue
# under "Every answer" (page 2 on), which always holds everything.
QUOTE_LIMIT = 220
PAGE_ONE_TREATMENTS = 4


def quote(text: str | None, limit: int = QUOTE_LIMIT) -> dict:
    """Free text for page 1: {"text", "cut"}; cut at a word boundary when longer than `limit`."""
    text = (text or "").strip()
    if len(text) <= limit:
        return {"text": text, "cut": False}
    head = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return {"text": head.rstrip(" ,;:.") + "…", "cut": True}


def _labels(q: Questionnaire, link_id: str, value: Any) -> str:
    return format_answer(q.by_id[link_id], value) if not is_empty(value) else ""


def flag_groups(flags: list[dict]) -> list[dict]:
    """Flags grouped by treatment, each group stop first; empty groups left out."""
    order = {s: i for i, s in enumerate(screening.SEVERITIES)}
    groups = []
    for key, title in TREATMENT_GROUPS:
        mine = sorted((f for f in flags if f["treatment"] == key), key=lambda f: order[f["severity"]])
        if mine:
            groups.append({"treatment": key, "title": title, "flags": mine})
    return groups


def _neurotoxin(q: Questionnaire, answers: dict, visit: dt.date) -> dict:
    rows = sorted(answers.get("neurotoxin") or [], key=lambda r: r.get("neurotoxin_date", ""), reverse=True)
    table = []
    for row in rows:
        when = as_date(row.get("neurotoxin_date"))
        table.append({
            "date": row.get("neurotoxin_date", ""),
            "weeks_ago": (visit - when).days // 7 if when else None,
            "product": _labels(q, "neurotoxin_product", row.get("neurotoxin_product")),
            "areas": _labels(q, "neurotoxin_areas", row.get("neurotoxin_areas")),
            "units": row.get("neurotoxin_units"),
            "onset_days": row.get("neurotoxin_onset_days"),
            "weeks_lasted": row.get("neurotoxin_weeks_lasted"),
            "satisfaction": row.get("neurotoxin_satisfaction"),
            "side_effects": _labels(q, "neurotoxin_side_effects", row.get("neurotoxin_side_effects")),
        })
    return {
        "ever": answers.get("neurotoxin_ever"),
        "rows": table[:PAGE_ONE_TREATMENTS],
        "earlier": len(table) - len(table[:PAGE_ONE_TREATMENTS]),
        "verdict": _labels(q, "neurotoxin_full_result", answers.get("neurotoxin_full_result")),
        "shortfall": quote(answers.get("neurotoxin_shortfall")),
    }


def _checked(q: Questionnaire, answers: dict, link_id: str) -> str:
    """A checklist as labels; "none reported" when the patient ticked the exclusive "none"; "" when unanswered."""
    codes = answers.get(link_id) or []
    picked = [c for c in codes if c not in NONE_CODES]
    return _labels(q, link_id, picked) if picked else ("none reported" if codes else "")


def _health(q: Questionnaire, answers: dict) -> dict:
    """Conditions, skin, medications, smoking and pregnancy status: what a physician checks before walking in."""
    asked = is_enabled(q.by_id["pregnancy"], answers)
    return {
        "conditions": _checked(q, answers, "conditions"),
        "cancer_area": answers.get("cancer_treatment_area", ""),
        "skin": _checked(q, answers, "skin_conditions"),
        "medications": _checked(q, answers, "medications"),
        "other_medications": quote(answers.get("other_medications")),
        "smoking": _labels(q, "smoking", answers.get("smoking")),
        "pregnancy": _labels(q, "pregnancy", answers.get("pregnancy")) if asked else "not asked (male at birth)",
    }


def _skin_type(q: Questionnaire, answers: dict) -> dict:
    skin = fitzpatrick.assess(q, answers)
    return {"type": skin.kind, "detail": skin.describe()} if skin else {"type": "", "detail": ""}


def _every_answer(q: Questionnaire, answers: dict) -> list[dict]:
    sections = []
    for section in q.sections:
        items = []
        for question in section.questions:
            value = answers.get(question.link_id)
            if is_empty(value) or not is_enabled(question, answers) or question.type == "attachment":
                continue
            if question.type == "group":
                rows = [[(item.label, format_answer(item, row[item.link_id]))
                         for item in question.items if not is_empty(row.get(item.link_id))] for row in value]
                items.append({"label": question.label, "rows": rows})
            else:
                items.append({"label": question.label, "text": format_answer(question, value)})
        if items:
            sections.append({"title": section.title, "items": items, "carried": _carried_section(q, answers, section.id)})
    return sections


def _carried_section(q: Questionnaire, answers: dict, section_id: str) -> str:
    """ "Carried forward from <date>, confirmed by the patient: <the answers it covers>", or "" (intake.returning)."""
    record = carried.record_of(answers, section_id)
    if record is None:
        return ""
    labels = [q.by_id[i].label for i in record.get("link_ids", ()) if i in q.by_id]
    ordered = [question.label for question in q.section(section_id).questions if question.label in labels]
    return f"{carried.note(record)}: {', '.join(ordered)}"


def _carried_blocks(q: Questionnaire, answers: dict) -> dict:
    """Page 1's notes on answers a returning patient brought forward and confirmed."""
    health = [i for i in ("conditions", "cancer_treatment_area", "medications", "other_medications") if i in answers]
    named = [q.by_id[i].label for i in health if carried.notes_for(answers, [i]) and i in ("conditions", "medications")]
    return {
        "allergies": carried.notes_for(answers, ["allergies", "other_allergies"]),
        "health": f"{carried.notes_for(answers, health)}: {', '.join(named)}" if named else "",
        "neurotoxin": carried.notes_for(answers, ["neurotoxin_ever", "neurotoxin", "neurotoxin_full_result"]),
        "skin": carried.notes_for(answers, [question.link_id for question in q.questions()
                                            if question.scored == "fitzpatrick"]),
    }


def entries(sections: list[dict]) -> list[dict]:
    """Every answer for the PDF's two newspaper columns: per section, one label/text entry per answer.

    A treatment row is one entry. Each column reads top to bottom, in the tagged structure as on paper.
    """
    out = []
    for section in sections:
        rows = []
        for item in section["items"]:
            if "rows" in item:
                rows.extend({"label": f"{item['label']} #{n}", "text": "; ".join(f"{label}: {value}" for label, value in row)}
                            for n, row in enumerate(item["rows"], 1))
            else:
                rows.append({"label": item["label"], "text": item["text"]})
        out.append({"title": section["title"], "entries": rows, "carried": section.get("carried", "")})
    return out


def _drawing(answers: dict) -> bytes | None:
    value = answers.get("signature_drawing") or ""
    prefix = "data:image/png;base64,"
    return base64.b64decode(value[len(prefix):]) if value.startswith(prefix) else None


def build(submission: Any, questionnaire: Questionnaire, *, now: dt.datetime | None = None,
          flags: list[dict] | None = None) -> dict:
    """Everything the physician summary shows, presentation-neutral."""
    answers = zonemap.current(submission.answers)  # the seal below still hashes the stored answers
    submitted = submission.submitted_at
    visit = screening.visit_date_of(answers, submitted.date())
    facts = screening.facts(answers, visit, questionnaire)
    flags = submission.flags if flags is None else flags
    allergies = [a for a in answers.get("allergies") or [] if a not in NONE_CODES]
    name = " ".join(p for p in (answers.get("first_name"), answers.get("last_name")) if p)
    return {
        "reference": submission.reference,
        "patient": {
            "name": name,
            "preferred_name": answers.get("preferred_name", ""),
            "date_of_birth": answers.get("date_of_birth", ""),
            "age": facts.get("age"),
            "sex": _labels(questionnaire, "sex_at_birth", answers.get("sex_at_birth")),
            "phone": answers.get("phone", ""),
        },
        "visit_date": visit.isoformat(),
        "visit_date_given": "visit_date" in answers,
        "submitted_at": submitted,
        "generated_at": now or dt.datetime.now(dt.UTC),
        "language": submission.language,
        "questionnaire_version": submission.questionnaire_version,
        "rules_version": submission.rules_version or screening.RULES_VERSION,
        "flag_groups": flag_groups(flags),
        "flag_counts": {s: sum(f["severity"] == s for f in flags) for s in screening.SEVERITIES},
        "allergies": {
            "listed": _labels(questionnaire, "allergies", allergies),
            "other": answers.get("other_allergies", ""),
        },
        "health": _health(questionnaire, answers),
        "neurotoxin": {**_neurotoxin(questionnaire, answers, visit),
                       "weeks_since_last": facts.get("weeks_since_neurotoxin"),
                       "trend": facts.get("neurotoxin_duration_trend", ""),
                       "brands": facts.get("neurotoxin_brands", "")},
        "concerns": {
            "concerns": _labels(questionnaire, "concerns", answers.get("concerns")),
            "acne_scar_type": _labels(questionnaire, "acne_scar_type", answers.get("acne_scar_type")),
            "areas": _labels(questionnaire, "concern_areas", answers.get("concern_areas")),
            "severity": _labels(questionnaire, "concern_severity", answers.get("concern_severity")),
            "goals": quote(answers.get("goals")),
            "reason": quote(answers.get("visit_reason")),
            "downtime": _labels(questionnaire, "downtime", answers.get("downtime")),
            "event": quote(answers.get("upcoming_event"), 120),
        },
        "zones": zonemap.view(questionnaire, answers),
        "skin": {
            **_skin_type(questionnaire, answers),
            "sun": _labels(questionnaire, "sun_exposure", answers.get("sun_exposure")),
            "tanning_beds": _labels(questionnaire, "tanning_beds", answers.get("tanning_beds")),
            "spf": _labels(questionnaire, "spf_use", answers.get("spf_use")),
            "routine": _labels(questionnaire, "skincare_routine", answers.get("skincare_routine")),
        },
        "sections": _every_answer(questionnaire, answers),
        "carried": _carried_blocks(questionnaire, answers),
        "seal": seal_mod.seal(submission),
        "signature": {
            "name": answers.get("signature_name", ""),
            "date": submitted.date().isoformat(),
            "drawing": _drawing(answers),
        },
    }
