"""Screen answers against the rules in screening.yaml; pure, no Flask, no database.

`screen(answers, visit_date)` derives facts (age, weeks since the last
neurotoxin, skin type, …), evaluates every rule's condition with the same
evaluator as `enable_when`, and returns Flags whose messages quote the
patient's own values.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import string
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from . import conditions, fitzpatrick, questionnaire
from .answers import format_answer
from .conditions import as_date
from .questionnaire import Questionnaire

RULES_PATH = Path(__file__).parent / "questionnaires" / "screening.yaml"
SEVERITIES = ("stop", "review", "note")
TREATMENTS = ("neurotoxin", "micro-needling", "both")
SHORT_DURATION_WEEKS = 8
# Past procedures whose date a rule reads, by the code of the prior_procedures choice: fact <name>_ago.
PROCEDURE_AGO = {"microneedling": "microneedling_ago", "laser": "laser_ago", "threads": "thread_lift_ago"}

FACTS = (
    "age", "last_neurotoxin_date", "last_neurotoxin_product", "weeks_since_neurotoxin", "days_since_neurotoxin",
    "neurotoxin_side_effects_all", "neurotoxin_short_duration", "neurotoxin_min_weeks", "neurotoxin_duration_trend",
    "neurotoxin_brands", "neurotoxin_brand_switched", "fitzpatrick_score", "skin_type", "skin_type_number",
    "weeks_since_isotretinoin", "days_since_retinoid", "bleeding_detail", "healing_detail", "filler_surgery_detail",
    "allergy_needling_detail", "droop_detail", "suboptimal_detail", "neurotoxin_ago", "isotretinoin_ago", "retinoid_ago",
    "pregnancy_detail", *PROCEDURE_AGO.values(),
)
PREGNANCY_WORDS = {"pregnant": "Pregnant", "trying": "Trying to conceive", "breastfeeding": "Breastfeeding"}


class RulesError(ValueError):
    """The screening rules file is invalid."""


@dataclass(frozen=True)
class Flag:
    rule_id: str
    severity: str
    treatment: str
    message: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    id: str
    treatment: str
    severity: str
    when: dict
    message: str
    source: str


@dataclass(frozen=True)
class Rules:
    version: str
    windows: dict[str, int]
    rules: tuple[Rule, ...]


def ago(days: int) -> str:
    """Terse elapsed time: days under two weeks ("10 days ago", "today"), whole weeks after."""
    if days == 0:
        return "today"
    if days < 14:
        return f"{days} day{'s' if days != 1 else ''} ago"
    return f"{days // 7} weeks ago"


def _labels(q: Questionnaire, link_id: str, codes: list[str], wanted: tuple[str, ...]) -> str:
    picked = [c for c in codes if c in wanted]
    return format_answer(q.by_id[link_id], picked) if picked else ""


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def age_on(born: dt.date | None, on: dt.date) -> int | None:
    """Whole years old on a given day."""
    if not born:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def facts(answers: Mapping[str, Any], visit_date: dt.date, q: Questionnaire) -> dict[str, Any]:
    """Derive what the rules and the physician need beyond the raw answers."""
    out: dict[str, Any] = {}
    if (years := age_on(as_date(answers.get("date_of_birth")), visit_date)) is not None:
        out["age"] = years
    rows = sorted((r for r in answers.get("neurotoxin") or [] if as_date(r.get("neurotoxin_date"))),
                  key=lambda r: r["neurotoxin_date"], reverse=True)
    if rows:
        last = rows[0]
        days = (visit_date - as_date(last["neurotoxin_date"])).days
        out.update(last_neurotoxin_date=last["neurotoxin_date"], days_since_neurotoxin=days,
                   weeks_since_neurotoxin=days // 7, neurotoxin_ago=ago(days),
                   last_neurotoxin_product=format_answer(q.by_id["neurotoxin_product"], last.get("neurotoxin_product")))
    all_rows = answers.get("neurotoxin") or []
    effects = sorted({e for r in all_rows for e in r.get("neurotoxin_side_effects", []) if e != "none"})
    out["neurotoxin_side_effects_all"] = effects
    out["droop_detail"] = _labels(q, "neurotoxin_side_effects", effects, ("eyelid_droop", "brow_droop"))
    lasted = [r["neurotoxin_weeks_lasted"] for r in rows if isinstance(r.get("neurotoxin_weeks_lasted"), int)]
    if lasted:
        out["neurotoxin_min_weeks"] = min(lasted)
        out["neurotoxin_short_duration"] = min(lasted) < SHORT_DURATION_WEEKS
        if len(lasted) > 1:
            oldest_first = list(reversed(lasted))
            direction = ("shorter" if oldest_first[-1] < oldest_first[0]
                         else "longer" if oldest_first[-1] > oldest_first[0] else "stable")
            out["neurotoxin_duration_trend"] = f"{' → '.join(map(str, oldest_first))} weeks ({direction})"
    brands = [r["neurotoxin_product"] for r in reversed(rows) if r.get("neurotoxin_product") not in (None, "unknown")]
    distinct = list(dict.fromkeys(brands))
    out["neurotoxin_brand_switched"] = len(distinct) > 1
    out["neurotoxin_brands"] = " → ".join(format_answer(q.by_id["neurotoxin_product"], b) for b in distinct)
    verdict = format_answer(q.by_id["neurotoxin_full_result"], answers.get("neurotoxin_full_result"))
    shortest = f"shortest {out['neurotoxin_min_weeks']} weeks" if "neurotoxin_min_weeks" in out else ""
    out["suboptimal_detail"] = _join(shortest, out.get("neurotoxin_duration_trend", ""),
                                     f"full result: {verdict}" if verdict else "")
    if skin := fitzpatrick.assess(q, answers):
        out.update(skin_type=skin.kind, skin_type_number=skin.number)
        if skin.complete:
            out["fitzpatrick_score"] = skin.score
    iso = as_date(answers.get("isotretinoin_last_dose"))
    if iso:
        out["weeks_since_isotretinoin"] = (visit_date - iso).days // 7
        out["isotretinoin_ago"] = ago((visit_date - iso).days)
    retinoid = as_date(answers.get("retinoid_last_use"))
    if retinoid:
        out["days_since_retinoid"] = (visit_date - retinoid).days
        out["retinoid_ago"] = ago(out["days_since_retinoid"])
    out["pregnancy_detail"] = PREGNANCY_WORDS.get(answers.get("pregnancy"), "")
    for code, fact in PROCEDURE_AGO.items():
        if (done := as_date(answers.get(f"procedure_date_{code}"))) and done <= visit_date:
            out[fact] = ago((visit_date - done).days)
    meds, conds, allergies = (answers.get(k) or [] for k in ("medications", "conditions", "allergies"))
    out["bleeding_detail"] = _join(_labels(q, "medications", meds, ("anticoagulant",)),
                                   _labels(q, "conditions", conds, ("bleeding_disorder",)))
    out["healing_detail"] = _labels(q, "conditions", conds, ("diabetes_uncontrolled", "immunosuppressed", "autoimmune"))
    out["allergy_needling_detail"] = _labels(q, "allergies", allergies, ("lidocaine", "nickel_steel"))
    dated = [(name, answers.get(f"procedure_date_{code}")) for code, name in (("filler", "filler"), ("surgery", "surgery"))]
    out["filler_surgery_detail"] = _join(*(f"{name} {when}" for name, when in dated if when))
    return out


def _placeholders(message: str) -> set[str]:
    return {name for _text, name, _spec, _conv in string.Formatter().parse(message) if name}


def _window_names(cond: Any) -> set[str]:
    (op, arg), = cond.items()
    if op in ("all", "any"):
        return set().union(*(_window_names(c) for c in arg))
    if op == "not":
        return _window_names(arg)
    if op in ("within_days", "at_least"):
        return {v for v in arg.values() if isinstance(v, str)}
    return set()


def parse_rules(data: Any, q: Questionnaire, source: str = "screening.yaml") -> Rules:
    """Validate rules data against the questionnaire; errors name the rule."""
    if not isinstance(data, dict) or not data.get("version") or not isinstance(data.get("rules"), list):
        raise RulesError(f"{source}: needs a version and a list of rules")
    windows = data.get("windows") or {}
    known = set(q.by_id) | set(FACTS)
    rules, seen = [], set()
    for index, raw in enumerate(data["rules"]):
        rid = raw.get("id") if isinstance(raw, dict) else None
        where = f"{source}: rules[{index}] (id {rid!r})"
        if not isinstance(rid, str) or not re.match(r"^[a-z][a-z0-9_]*$", rid) or rid in seen:
            raise RulesError(f"{where}: id must be unique snake_case")
        seen.add(rid)
        if set(raw) != {"id", "treatment", "severity", "when", "message", "source"}:
            raise RulesError(f"{where}: needs exactly id, treatment, severity, when, message, source")
        if raw["treatment"] not in TREATMENTS or raw["severity"] not in SEVERITIES:
            raise RulesError(f"{where}: treatment must be one of {TREATMENTS} and severity one of {SEVERITIES}")
        try:
            refs = conditions.referenced_ids(raw["when"])
        except conditions.ConditionError as exc:
            raise RulesError(f"{where}: bad condition: {exc}") from None
        if unknown := sorted((refs | _placeholders(raw["message"])) - known):
            raise RulesError(f"{where}: names unknown link_id(s) or fact(s) {unknown}")
        if missing := sorted(_window_names(raw["when"]) - set(windows)):
            raise RulesError(f"{where}: names unknown window(s) {missing}")
        try:
            questionnaire.check_codes(raw["when"], where, q.by_id)
        except questionnaire.QuestionnaireError as exc:
            raise RulesError(str(exc)) from None
        rules.append(Rule(rid, raw["treatment"], raw["severity"], raw["when"], raw["message"], str(raw["source"])))
    return Rules(str(data["version"]), dict(windows), tuple(rules))


@functools.cache
def default_questionnaire() -> Questionnaire:
    return questionnaire.load()


@functools.cache
def load_rules(path: Path = RULES_PATH) -> Rules:
    return parse_rules(yaml.safe_load(path.read_text(encoding="utf-8")), default_questionnaire(), path.name)


RULES_VERSION = load_rules().version


def check_windows(windows: Mapping[str, Any] | None, rules: Rules | None = None) -> None:
    """Refuse a clinic's SCREENING_WINDOWS with an unknown name or a value that is not a positive whole number.

    Windows are days, except the few named in years (adult_age_years)."""
    known = (rules or load_rules()).windows
    for name, days in (windows or {}).items():
        if name not in known:
            raise RulesError(f"SCREENING_WINDOWS: unknown window {name!r} (known: {', '.join(sorted(known))})")
        if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
            unit = "years" if name.endswith("_years") else "days"
            raise RulesError(f"SCREENING_WINDOWS: {name!r} must be a positive whole number of {unit}, got {days!r}")


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return "—"


def _message(rule: Rule, answers: Mapping[str, Any], derived: Mapping[str, Any], q: Questionnaire) -> str:
    values = _Values()
    for name in _placeholders(rule.message):
        if name in derived and derived[name] not in (None, "", []):
            values[name] = derived[name]
        elif name in q.by_id and answers.get(name) not in (None, "", []):
            values[name] = format_answer(q.by_id[name], answers[name])
    return rule.message.format_map(values)


def screen(
    answers: Mapping[str, Any],
    visit_date: dt.date,
    windows: Mapping[str, int] | None = None,
    rules: Rules | None = None,
    q: Questionnaire | None = None,
) -> list[Flag]:
    """Return the flags the answers raise, stop first, in rule order within a severity."""
    rules = rules or load_rules()
    q = q or default_questionnaire()
    derived = facts(answers, visit_date, q)
    namespace = {**answers, **derived}
    merged_windows = {**rules.windows, **(windows or {})}
    flags = [
        Flag(rule.id, rule.severity, rule.treatment, _message(rule, answers, derived, q), rule.source)
        for rule in rules.rules
        if conditions.evaluate(rule.when, namespace, visit_date, merged_windows)
    ]
    return sorted(flags, key=lambda f: SEVERITIES.index(f.severity))


def visit_date_of(answers: Mapping[str, Any], fallback: dt.date) -> dt.date:
    """The appointment date the patient gave, else `fallback` (the day they submitted)."""
    return as_date(answers.get("visit_date")) or fallback


def flag_dicts(
    answers: Mapping[str, Any], submitted_on: dt.date, windows: Mapping[str, int] | None = None,
    q: Questionnaire | None = None,
) -> list[dict[str, str]]:
    """Screen at the patient's visit date (else the day they submitted); return flags as stored."""
    return [f.as_dict() for f in screen(answers, visit_date_of(answers, submitted_on), windows, q=q)]
