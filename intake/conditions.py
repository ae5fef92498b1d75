"""Evaluate structured conditions against answers.

One evaluator serves both `enable_when` in the questionnaire and the
screening rules. A condition is a one-key mapping, never code:

    {"all": [c, ...]}                 every sub-condition holds
    {"any": [c, ...]}                 at least one holds
    {"not": c}                        the sub-condition does not hold
    {"equals": {link_id: value}}      the answer equals value
    {"includes": {link_id: value}}    a multi-choice answer contains value
    {"answered": link_id}             the question has a non-empty answer
    {"within_days": {link_id: n}}     a date answer is at most n days before the visit
    {"at_least": {link_id: n}}        a numeric answer is >= n

`n` may also be the name of a configurable window (a string), looked up in
`windows`, so that a clinic can set e.g. the isotretinoin window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

OPERATORS = ("all", "any", "not", "equals", "includes", "answered", "within_days", "at_least")


class ConditionError(ValueError):
    """A condition is malformed."""


def is_empty(value: Any) -> bool:
    """Return True for an answer that says nothing."""
    return value is None or value == "" or value == [] or value == {}


def _operator(cond: Any) -> tuple[str, Any]:
    if not isinstance(cond, Mapping) or len(cond) != 1:
        raise ConditionError(f"a condition must be a mapping with one operator, got {cond!r}")
    (op, arg), = cond.items()
    if op not in OPERATORS:
        raise ConditionError(f"unknown condition operator {op!r} (expected one of {', '.join(OPERATORS)})")
    return op, arg


def _pair(op: str, arg: Any) -> tuple[str, Any]:
    if not isinstance(arg, Mapping) or len(arg) != 1:
        raise ConditionError(f"{op!r} takes one {{link_id: value}} pair, got {arg!r}")
    (link_id, value), = arg.items()
    return link_id, value


def referenced_ids(cond: Any) -> set[str]:
    """Return every link_id a condition reads; raise ConditionError if malformed."""
    op, arg = _operator(cond)
    if op in ("all", "any"):
        if not isinstance(arg, list) or not arg:
            raise ConditionError(f"{op!r} takes a non-empty list of conditions")
        return set().union(*(referenced_ids(c) for c in arg))
    if op == "not":
        return referenced_ids(arg)
    if op == "answered":
        if not isinstance(arg, str):
            raise ConditionError(f"'answered' takes a link_id, got {arg!r}")
        return {arg}
    link_id, value = _pair(op, arg)
    if op in ("within_days", "at_least") and not isinstance(value, int | float | str):
        raise ConditionError(f"{op!r} takes a number or a window name, got {value!r}")
    return {link_id}


def as_date(value: Any) -> dt.date | None:
    """A date answer (ISO string or date) as a date; None for anything else."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _number(value: Any, windows: Mapping[str, Any]) -> float:
    if isinstance(value, str):
        if value not in windows:
            raise ConditionError(f"unknown window {value!r}")
        return windows[value]
    return value


def evaluate(
    cond: Any,
    answers: Mapping[str, Any],
    visit_date: dt.date | None = None,
    windows: Mapping[str, Any] | None = None,
) -> bool:
    """Return whether `cond` holds for `answers`, counting days from `visit_date`."""
    windows = windows or {}
    op, arg = _operator(cond)
    if op == "all":
        return all(evaluate(c, answers, visit_date, windows) for c in arg)
    if op == "any":
        return any(evaluate(c, answers, visit_date, windows) for c in arg)
    if op == "not":
        return not evaluate(arg, answers, visit_date, windows)
    if op == "answered":
        return not is_empty(answers.get(arg))
    link_id, value = _pair(op, arg)
    answer = answers.get(link_id)
    if op == "equals":
        return answer == value
    if op == "includes":
        return isinstance(answer, list | tuple | set) and value in answer
    if op == "at_least":
        return isinstance(answer, int | float) and not isinstance(answer, bool) and answer >= _number(value, windows)
    # within_days
    day = as_date(answer)
    if day is None:
        return False
    elapsed = ((visit_date or dt.date.today()) - day).days
    return 0 <= elapsed <= _number(value, windows)
