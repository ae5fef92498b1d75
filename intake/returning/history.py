"""What a returning patient's form carries forward, and what they have confirmed; pure, no Flask, no database.

The questions marked `carry_forward: true` in the questionnaire are copied from the earlier
submission's answers. The first section (identity) and the last (consent) are never copied, even if a
definition marked them (intake.questionnaire refuses that at load too). The record of what was carried
lives with the answers under the reserved key CARRIED, so it is encrypted, sealed and exported with them:

    {"from": "2026-03-12", "submission_id": "<earlier id>",
     "sections": {"medical-history": {"from": "2026-03-12", "link_ids": [...], "digest": "<sha256>",
                                      "confirmed": false, "changed": false, "confirmed_at": null}, ...}}

A carried section stays unconfirmed until the patient saves its page with Next ("Yes, this is still
right", or after changing answers: saving the edited page confirms the edited answers).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from typing import Any

from .. import answers as answers_mod
from ..conditions import is_empty
from ..questionnaire import Questionnaire, Section

CARRIED = "_carried"


def carried_sections(q: Questionnaire) -> list[Section]:
    """The sections holding questions that may be carried forward: never the first (identity) or the last (consent)."""
    return [s for s in q.sections[1:-1] if any(question.carry_forward for question in s.questions)]


def _digest(values: Mapping[str, Any]) -> str:
    return answers_mod.sha256(dict(values))


def _section_values(section: Section, answers: Mapping[str, Any], link_ids: list[str] | None = None) -> dict:
    ids = link_ids if link_ids is not None else [q.link_id for q in section.questions if q.carry_forward]
    return {i: answers[i] for i in ids if i in answers and not is_empty(answers[i])}


def carry(q: Questionnaire, earlier: Mapping[str, Any], *, source_date: dt.date, source_id: str) -> dict[str, Any]:
    """Return the earlier answers to carry forward, with the CARRIED record; {} when there is nothing to carry."""
    picked = {}
    for section in carried_sections(q):
        picked.update(copy.deepcopy(_section_values(section, earlier)))
    # Only carried questions, whose conditions name only carried questions: pruning drops what no longer applies.
    picked = answers_mod.prune(q, picked)
    record = {}
    for section in carried_sections(q):
        values = _section_values(section, picked)
        if values:
            record[section.id] = {"from": source_date.isoformat(), "link_ids": sorted(values), "digest": _digest(values),
                                  "confirmed": False, "changed": False, "confirmed_at": None}
    if not record:
        return {}
    return {**picked, CARRIED: {"from": source_date.isoformat(), "submission_id": source_id, "sections": record}}


def record_of(answers: Mapping[str, Any] | None, section_id: str) -> dict | None:
    """The carried record of one section, or None when nothing on it was carried forward."""
    carried = (answers or {}).get(CARRIED)
    if not isinstance(carried, dict):
        return None
    return (carried.get("sections") or {}).get(section_id)


def unconfirmed(answers: Mapping[str, Any] | None) -> list[str]:
    """Ids of the carried sections the patient has not yet confirmed or edited, in stored order."""
    carried = (answers or {}).get(CARRIED)
    if not isinstance(carried, dict):
        return []
    return [sid for sid, rec in (carried.get("sections") or {}).items() if not rec.get("confirmed")]


def confirm(section: Section, answers: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Return `answers` with `section` confirmed as it stands now; "changed" when its carried answers differ."""
    record = record_of(answers, section.id)
    if record is None:
        return dict(answers)
    carried = copy.deepcopy(answers[CARRIED])
    now_values = _section_values(section, answers)
    carried["sections"][section.id] = {
        **record, "confirmed": True, "confirmed_at": now.isoformat(timespec="seconds"),
        "changed": _digest(now_values) != record["digest"],
    }
    return {**answers, CARRIED: carried}


def note(record: Mapping[str, Any]) -> str:
    """What the physician reads next to a carried section (English, terse, like the rest of the PDF)."""
    if not record.get("confirmed"):
        state = "NOT confirmed by the patient"
    elif record.get("changed"):
        state = "changed and confirmed by the patient"
    else:
        state = "confirmed by the patient"
    return f"Carried forward from {record['from']}, {state}"


def notes_for(answers: Mapping[str, Any] | None, link_ids: list[str] | tuple[str, ...]) -> str:
    """The note for a block of the summary showing `link_ids`, if any of them was carried; else ""."""
    carried = (answers or {}).get(CARRIED)
    if not isinstance(carried, dict):
        return ""
    texts = [note(record) for record in (carried.get("sections") or {}).values()
             if set(record.get("link_ids") or ()) & set(link_ids)]
    return "; ".join(dict.fromkeys(texts))
