"""The physician's summary of one submission, as plain data for the PDF template.

Page 1 follows CLINICAL.md: flags by treatment (stop first), allergies,
the neurotoxin history, concerns and goals, skin type; then every answer.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from . import screening
from .answers import format_answer, is_enabled
from .conditions import as_date, is_empty
from .questionnaire import Questionnaire

TREATMENT_GROUPS = (("both", "Both treatments"), ("neurotoxin", "Neurotoxin"), ("micro-needling", "Micro-needling"))
NONE_CODES = ("none",)


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
        "rows": table,
        "verdict": _labels(q, "neurotoxin_full_result", answers.get("neurotoxin_full_result")),
        "shortfall": answers.get("neurotoxin_shortfall", ""),
    }


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
            sections.append({"title": section.title, "items": items})
    return sections


def _entries(sections: list[dict]) -> list[dict]:
    """Flatten sections into headings and one entry per answer (a treatment row is one entry)."""
    out = []
    for section in sections:
        out.append({"heading": section["title"], "weight": 2})
        for item in section["items"]:
            if "rows" in item:
                for n, row in enumerate(item["rows"], 1):
                    text = "; ".join(f"{label}: {value}" for label, value in row)
                    out.append({"label": f"{item['label']} #{n}", "text": text, "weight": 1 + len(text) // 34})
            else:
                out.append({"label": item["label"], "text": item["text"],
                            "weight": 1 + max(len(item["label"]) // 26, len(item["text"]) // 34)})
    return out


def two_columns(sections: list[dict]) -> list[tuple[dict | None, dict | None]]:
    """Split every answer into a left and a right half of about equal height, as table rows.

    One table with fixed column widths lays out far faster in WeasyPrint than CSS columns.
    """
    entries = _entries(sections)
    total, running, split = sum(e["weight"] for e in entries), 0, len(entries)
    for index, entry in enumerate(entries):
        running += entry["weight"]
        if running >= total / 2:
            split = index + 1
            break
    left, right = entries[:split], entries[split:]
    if right and "heading" not in right[0]:
        right.insert(0, {"heading": f"{_last_heading(left)} (continued)", "weight": 2})
    height = max(len(left), len(right))
    return [(left[i] if i < len(left) else None, right[i] if i < len(right) else None) for i in range(height)]


def _last_heading(entries: list[dict]) -> str:
    return next((e["heading"] for e in reversed(entries) if "heading" in e), "")


def _drawing(answers: dict) -> bytes | None:
    value = answers.get("signature_drawing") or ""
    prefix = "data:image/png;base64,"
    return base64.b64decode(value[len(prefix):]) if value.startswith(prefix) else None


def build(submission: Any, questionnaire: Questionnaire, *, now: dt.datetime | None = None,
          flags: list[dict] | None = None) -> dict:
    """Everything the physician summary shows, presentation-neutral."""
    answers = submission.answers
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
        "neurotoxin": {**_neurotoxin(questionnaire, answers, visit),
                       "weeks_since_last": facts.get("weeks_since_neurotoxin"),
                       "trend": facts.get("neurotoxin_duration_trend", ""),
                       "brands": facts.get("neurotoxin_brands", "")},
        "concerns": {
            "concerns": _labels(questionnaire, "concerns", answers.get("concerns")),
            "acne_scar_type": _labels(questionnaire, "acne_scar_type", answers.get("acne_scar_type")),
            "areas": _labels(questionnaire, "concern_areas", answers.get("concern_areas")),
            "severity": _labels(questionnaire, "concern_severity", answers.get("concern_severity")),
            "goals": answers.get("goals", ""),
            "reason": answers.get("visit_reason", ""),
            "downtime": _labels(questionnaire, "downtime", answers.get("downtime")),
            "event": answers.get("upcoming_event", ""),
        },
        "skin": {
            "type": facts.get("skin_type"),
            "score": facts.get("fitzpatrick_score"),
            "sun": _labels(questionnaire, "sun_exposure", answers.get("sun_exposure")),
            "tanning_beds": _labels(questionnaire, "tanning_beds", answers.get("tanning_beds")),
            "spf": _labels(questionnaire, "spf_use", answers.get("spf_use")),
            "routine": _labels(questionnaire, "skincare_routine", answers.get("skincare_routine")),
        },
        "sections": _every_answer(questionnaire, answers),
        "signature": {
            "name": answers.get("signature_name", ""),
            "date": submitted.date().isoformat(),
            "drawing": _drawing(answers),
        },
    }
