"""Load and validate the questionnaire definition into plain dataclasses.

The YAML file is the single source of every question. A bad definition fails
at start-up with a QuestionnaireError naming the offending item.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import conditions

TYPES = (
    "string", "text", "integer", "decimal", "date", "boolean",
    "choice", "open-choice", "multi-choice", "attachment", "group", "zone-map",
)
# A zone-map answer is {zone code: [concern codes]}: `zones` are the places, `choices` the concerns.
CHOICE_TYPES = ("choice", "open-choice", "multi-choice", "zone-map")
ZONE_REGIONS = ("face", "body")
ZONE_KEYS = {"code", "label", "region"}
FREE_TEXT_TYPES = ("string", "text", "open-choice")
NUMERIC_TYPES = ("integer", "decimal")
LINK_ID = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_LENGTH_CEILING = 10_000
DEFAULT_PATH = Path(__file__).parent / "questionnaires" / "consultation.yaml"

QUESTION_KEYS = {
    "link_id", "type", "text", "help", "required", "max_length", "min", "max", "choices",
    "enable_when", "items", "repeats", "max_repeats", "widget", "format", "autocomplete",
    "inputmode", "not_future", "not_past", "scored", "signature", "accept", "max_bytes", "short", "link",
    "required_message", "zones", "carry_forward",
}
# A phrase of a question's text can link to one of these patient pages (e.g. "privacy notice" -> /privacy).
LINK_PAGES = {"privacy"}
ATTACHMENT_TYPES = ("image/png",)
CHOICE_KEYS = {"code", "label", "score", "exclusive", "zones"}
# Section ids become wizard URLs (/intake/<id>); these are taken by other pages.
RESERVED_SECTION_IDS = {"review", "thanks", "start", "start-over", "resume", "continue"}
SECTION_ID = re.compile(r"^[a-z][a-z0-9-]*$")


class QuestionnaireError(ValueError):
    """The questionnaire definition is invalid."""


@dataclass(frozen=True)
class Choice:
    code: str
    label: str
    score: int | None = None
    exclusive: bool = False
    zones: tuple[str, ...] = ()  # the zone-map zones this choice lines up with (e.g. a toxin's treated areas)


@dataclass(frozen=True)
class Zone:
    code: str
    label: str
    region: str


@dataclass(frozen=True)
class Question:
    link_id: str
    type: str
    text: str
    help: str = ""
    required: bool = False
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    choices: tuple[Choice, ...] = ()
    enable_when: dict | None = None
    items: tuple[Question, ...] = ()
    repeats: bool = False
    max_repeats: int = 1
    widget: str = ""
    format: str = ""
    autocomplete: str = ""
    inputmode: str = ""
    not_future: bool = False
    not_past: bool = False
    scored: str = ""
    signature: bool = False
    accept: str = ""
    max_bytes: int = 0
    short: str = ""  # the physician's terse label (PDF, exports); the patient sees `text`
    link: dict | None = None  # {text: a phrase of `text`, page: one of LINK_PAGES}: that phrase becomes a link
    required_message: str = ""  # what to do when it is left blank; else validators.required_message() by type
    zones: tuple[Zone, ...] = ()  # zone-map only: the places a patient marks, each with its concerns (choices)
    carry_forward: bool = False  # a returning patient's earlier answer is offered again, to confirm (intake.returning)

    @property
    def label(self) -> str:
        return self.short or self.text

    def choice(self, code: str) -> Choice | None:
        """Return the choice with `code`, or None."""
        return next((c for c in self.choices if c.code == code), None)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.choices)

    def zone(self, code: str) -> Zone | None:
        return next((z for z in self.zones if z.code == code), None)


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: str
    title: str
    sections: tuple[Section, ...]
    by_id: dict[str, Question] = field(repr=False, compare=False, default_factory=dict)

    def questions(self) -> Iterator[Question]:
        """Yield every top-level question in order (groups, not their items)."""
        for section in self.sections:
            yield from section.questions

    def section(self, section_id: str) -> Section:
        return next(s for s in self.sections if s.id == section_id)

    def section_of(self, link_id: str) -> Section:
        return next(s for s in self.sections if any(q.link_id == link_id for q in s.questions))


def _fail(where: str, message: str) -> QuestionnaireError:
    return QuestionnaireError(f"{where}: {message}")


def _choice(raw: Any, where: str) -> Choice:
    if not isinstance(raw, dict) or set(raw) - CHOICE_KEYS or "code" not in raw or "label" not in raw:
        raise _fail(where, f"a choice needs code and label and only {sorted(CHOICE_KEYS)}, got {raw!r}")
    if not isinstance(raw["code"], str) or not isinstance(raw["label"], str):
        raise _fail(where, f"choice code and label must be text (quote yes/no/true), got {raw!r}")
    zones = raw.get("zones") or ()
    if not isinstance(zones, list | tuple) or not all(isinstance(z, str) for z in zones):
        raise _fail(where, f"a choice's zones are a list of zone codes, got {raw!r}")
    return Choice(raw["code"], raw["label"], raw.get("score"), bool(raw.get("exclusive", False)), tuple(zones))


def _zones(raw: Any, where: str) -> tuple[Zone, ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail(where, "a zone-map question needs zones")
    zones = []
    for z in raw:
        if (not isinstance(z, dict) or set(z) != ZONE_KEYS or not isinstance(z["code"], str) or not LINK_ID.match(z["code"])
                or not isinstance(z["label"], str) or z["region"] not in ZONE_REGIONS):
            raise _fail(where, f"a zone needs a snake_case code, a label and a region ({', '.join(ZONE_REGIONS)}), got {z!r}")
        zones.append(Zone(z["code"], z["label"], z["region"]))
    if len({z.code for z in zones}) != len(zones):
        raise _fail(where, "zone codes must be unique")
    return tuple(zones)


def _question(raw: Any, where: str, in_group: str = "") -> Question:
    if not isinstance(raw, dict):
        raise _fail(where, "a question must be a mapping")
    link_id = raw.get("link_id")
    where = f"{where} (link_id {link_id!r})"
    if not isinstance(link_id, str) or not LINK_ID.match(link_id):
        raise _fail(where, "link_id must be snake_case")
    if unknown := set(raw) - QUESTION_KEYS:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    qtype = raw.get("type")
    if qtype not in TYPES:
        raise _fail(where, f"unknown type {qtype!r} (expected one of {', '.join(TYPES)})")
    if not isinstance(raw.get("text"), str) or not raw["text"].strip():
        raise _fail(where, "text is required")
    if "required_message" in raw and not (raw.get("required") and isinstance(raw["required_message"], str)
                                          and raw["required_message"].strip()):
        raise _fail(where, "required_message is text, and only for a required question")
    if len(raw.get("short") or "") > 40:
        raise _fail(where, "short labels are for the physician's PDF: 40 characters at most")
    if in_group and not link_id.startswith(in_group + "_"):
        raise _fail(where, f"items of group {in_group!r} must be named {in_group}_<name>")
    choices = tuple(_choice(c, where) for c in raw.get("choices") or ())
    if qtype in CHOICE_TYPES:
        if not choices:
            raise _fail(where, f"a {qtype} question needs choices")
        codes = [c.code for c in choices]
        if len(set(codes)) != len(codes):
            raise _fail(where, "choice codes must be unique")
    elif choices:
        raise _fail(where, f"a {qtype} question cannot have choices")
    zones = _zones(raw.get("zones"), where) if qtype == "zone-map" else ()
    if raw.get("zones") and qtype != "zone-map":
        raise _fail(where, "only a zone-map question has zones")
    if qtype == "zone-map" and in_group:
        raise _fail(where, "a zone-map cannot be inside a group")
    if any(c.exclusive for c in choices) and qtype != "multi-choice":
        raise _fail(where, "only multi-choice answers can have an exclusive choice")
    if raw.get("scored") and any(c.score is None for c in choices):
        raise _fail(where, "every choice of a scored question needs a score")
    max_length = raw.get("max_length")
    if qtype in FREE_TEXT_TYPES:
        if not isinstance(max_length, int) or not 0 < max_length <= MAX_LENGTH_CEILING:
            raise _fail(where, f"a {qtype} question needs a max_length between 1 and {MAX_LENGTH_CEILING}")
    if qtype in NUMERIC_TYPES and not (isinstance(raw.get("min"), int | float) and isinstance(raw.get("max"), int | float)):
        raise _fail(where, f"a {qtype} question needs numeric min and max bounds")
    if qtype == "attachment" and (raw.get("accept") not in ATTACHMENT_TYPES or not isinstance(raw.get("max_bytes"), int)
                                  or not 0 < raw["max_bytes"] <= 1_000_000):
        raise _fail(where, f"an attachment needs accept (one of {list(ATTACHMENT_TYPES)}) and max_bytes up to 1000000")
    link = raw.get("link")
    if link is not None and (not isinstance(link, dict) or set(link) != {"text", "page"} or link["page"] not in LINK_PAGES
                             or not isinstance(link["text"], str) or link["text"] not in raw["text"]):
        raise _fail(where, f"link needs text (a phrase of the question's text) and page (one of {sorted(LINK_PAGES)})")
    if raw.get("carry_forward") and (in_group or qtype == "attachment" or raw.get("signature")):
        raise _fail(where, "carry_forward is for whole questions (a group carries all its rows), never a signature")
    items: tuple[Question, ...] = ()
    if qtype == "group":
        if in_group:
            raise _fail(where, "groups cannot be nested")
        if not raw.get("items"):
            raise _fail(where, "a group needs items")
        items = tuple(_question(item, f"{where}.items[{i}]", link_id) for i, item in enumerate(raw["items"]))
        if raw.get("repeats") and not (isinstance(raw.get("max_repeats"), int) and raw["max_repeats"] > 0):
            raise _fail(where, "a repeating group needs a positive max_repeats")
    elif raw.get("items"):
        raise _fail(where, "only a group can have items")
    fields = {k: v for k, v in raw.items() if k not in ("choices", "items", "zones")}
    return Question(**fields, choices=choices, items=items, zones=zones)


def _check_condition(cond: Any, where: str, by_id: dict[str, Question]) -> None:
    try:
        refs = conditions.referenced_ids(cond)
    except conditions.ConditionError as exc:
        raise _fail(where, f"bad enable_when: {exc}") from None
    if missing := sorted(refs - set(by_id)):
        raise _fail(where, f"enable_when names unknown link_id(s) {missing}")
    check_codes(cond, where, by_id)


def check_codes(cond: dict, where: str, by_id: dict[str, Question]) -> None:
    """Refuse a condition comparing a choice question to a code it does not have (a typo never fires)."""
    (op, arg), = cond.items()
    if op in ("all", "any"):
        for sub in arg:
            check_codes(sub, where, by_id)
    elif op == "not":
        check_codes(arg, where, by_id)
    elif op in ("equals", "includes"):
        (link_id, value), = arg.items()
        target = by_id.get(link_id)
        if target and target.type in ("choice", "multi-choice") and value not in target.codes:
            raise _fail(where, f"condition compares {link_id!r} to {value!r}, which is not one of its codes")
        if target and target.type == "zone-map" and not target.zone(value):
            raise _fail(where, f"condition compares {link_id!r} to {value!r}, which is not one of its zones")


def _check_carried(sections: list[Section], source: str) -> None:
    """Identity (the first section) and consent (the last) are never carried forward, and a carried
    question may only depend on carried questions (else it would arrive hidden, and be dropped)."""
    carried = {q.link_id for s in sections for q in s.questions if q.carry_forward}
    for index, section in enumerate(sections):
        for question in section.questions:
            if not question.carry_forward:
                continue
            where = f"{source}: link_id {question.link_id!r}"
            if index in (0, len(sections) - 1):
                raise _fail(where, "identity (the first section) and consent (the last) are never carried forward")
            if question.enable_when and (missing := conditions.referenced_ids(question.enable_when) - carried):
                raise _fail(where, f"a carried question may only depend on carried ones, not {sorted(missing)}")


def parse(data: Any, source: str = "questionnaire") -> Questionnaire:
    """Build a validated Questionnaire from parsed YAML data."""
    if not isinstance(data, dict):
        raise _fail(source, "the definition must be a mapping")
    for key in ("id", "version", "title", "sections"):
        if not data.get(key):
            raise _fail(source, f"missing {key!r}")
    sections, by_id = [], {}
    for s_index, raw_section in enumerate(data["sections"]):
        where = f"{source}: sections[{s_index}]"
        if not isinstance(raw_section, dict) or not raw_section.get("id") or not raw_section.get("questions"):
            raise _fail(where, "a section needs an id, a title and questions")
        section_id = str(raw_section["id"])
        if not SECTION_ID.match(section_id) or section_id in RESERVED_SECTION_IDS:
            raise _fail(where, f"section id {section_id!r} must be kebab-case and not one of {sorted(RESERVED_SECTION_IDS)}")
        if any(s.id == raw_section["id"] for s in sections):
            raise _fail(where, f"duplicate section id {raw_section['id']!r}")
        questions = []
        for q_index, raw in enumerate(raw_section["questions"]):
            question = _question(raw, f"{where}.questions[{q_index}]")
            for q in (question, *question.items):
                if q.link_id in by_id:
                    raise _fail(f"{where}.questions[{q_index}]", f"duplicate link_id {q.link_id!r}")
                by_id[q.link_id] = q
            questions.append(question)
        sections.append(Section(raw_section["id"], raw_section.get("title", ""), raw_section.get("intro", ""), tuple(questions)))
    zone_codes = {z.code for question in by_id.values() for z in question.zones}
    for question in by_id.values():
        if unknown := sorted({z for c in question.choices for z in c.zones} - zone_codes):
            raise _fail(f"{source}: link_id {question.link_id!r}", f"choices name unknown zones {unknown}")
        if question.enable_when is not None:
            _check_condition(question.enable_when, f"{source}: link_id {question.link_id!r}", by_id)
    _check_carried(sections, source)
    return Questionnaire(str(data["id"]), str(data["version"]), data["title"], tuple(sections), by_id)


# libyaml's loader where PyYAML was built with it (its wheels are): the questionnaire parses ~10x faster.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_LOADED: dict[tuple[str, int, int], Questionnaire] = {}


def load(path: Path | str = DEFAULT_PATH) -> Questionnaire:
    """Read and validate a questionnaire YAML file.

    The result is immutable and kept per process for this file as it is now (path, size and modification time),
    so each app a process creates (gunicorn workers, the CLI, tests) does not parse the same file again.
    """
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _LOADED:
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)  # noqa: S506 - a safe loader
        except yaml.YAMLError as exc:
            raise QuestionnaireError(f"{path.name}: not valid YAML: {exc}") from None
        loaded = parse(data, path.name)
        if len(_LOADED) >= 8:
            _LOADED.clear()
        _LOADED[key] = loaded
    return _LOADED[key]
