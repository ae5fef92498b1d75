"""Pure helpers over stored answers: pruning, hashing and display.

Answers are a JSON-able dict keyed by link_id. Dates are ISO strings,
multi-choice answers lists of codes, booleans true/false, and a repeating
group a list of dicts keyed by its items' link_ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from . import conditions
from .questionnaire import Question, Questionnaire

# Keys starting with "_" are the app's notes kept with the answers (never a link_id, which starts with a letter):
# "_carried" records what a returning patient's form carried forward and what they confirmed (intake.returning).
# Forms never read or write them, so a patient cannot post one.
RESERVED_PREFIX = "_"


def is_enabled(question: Question, answers: Mapping[str, Any]) -> bool:
    """Return whether `question` applies given the other answers."""
    return question.enable_when is None or conditions.evaluate(question.enable_when, answers)


def prune(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Drop unknown keys, empty answers and answers to questions that are hidden; keep the app's notes ("_…").

    Hiding can cascade (a hidden answer can hide another question), so this
    repeats until nothing changes.
    """
    known = {q.link_id for q in questionnaire.questions()}
    kept = {k: v for k, v in answers.items() if k in known and not conditions.is_empty(v)}
    while True:
        hidden = [q.link_id for q in questionnaire.questions() if q.link_id in kept and not is_enabled(q, kept)]
        if not hidden:
            notes = {k: v for k, v in answers.items() if k.startswith(RESERVED_PREFIX)}
            return {**kept, **notes}
        for link_id in hidden:
            del kept[link_id]


def canonical_json(answers: Mapping[str, Any]) -> str:
    """Serialise answers the same way every time, for hashing and storage."""
    return json.dumps(answers, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(answers: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(answers).encode("utf-8")).hexdigest()


def _identity(text: str) -> str:
    return text


def format_answer(question: Question, value: Any, translate: Callable[[str], str] = _identity) -> str:
    """Render one answer as text a person reads: labels, not codes."""
    if conditions.is_empty(value):
        return ""
    if question.type == "boolean":
        return translate("Yes") if value else translate("No")
    if question.type == "attachment":
        return translate("Drawn (image attached)")
    if question.type in ("choice", "open-choice"):
        choice = question.choice(value)
        return translate(choice.label) if choice else str(value)
    if question.type == "zone-map" and not isinstance(value, dict):
        return "; ".join(map(str, value)) if isinstance(value, list) else str(value)
    if question.type == "zone-map":
        def words(codes: list) -> str:
            return ", ".join(translate(c.label) if (c := question.choice(code)) else str(code) for code in codes)
        return "; ".join(f"{translate(z.label)}: {words(codes)}" for z in question.zones if (codes := value.get(z.code)))
    if question.type == "multi-choice":
        return "; ".join(translate(c.label) if (c := question.choice(code)) else str(code) for code in value)
    return str(value)


def describe_condition(
    questionnaire: Questionnaire, cond: Mapping[str, Any], translate: Callable[[str], str] = _identity
) -> str | None:
    """Say in words when a question applies, for readers without live show/hide; None if too complex."""
    (op, arg), = cond.items()
    if op == "any":
        parts = [describe_condition(questionnaire, c, translate) for c in arg]
        return None if None in parts else translate(" or ").join(parts)
    if op not in ("equals", "includes"):
        return None
    (link_id, value), = arg.items()
    question = questionnaire.by_id[link_id]
    label = format_answer(question, [value] if question.type == "multi-choice" else value, translate)
    return f"“{label}”"
