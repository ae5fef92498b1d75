"""Build one WTForms class per questionnaire section, with no field written by hand.

Also converts between a submitted form and stored answers, in both directions,
so that a draft can be shown again and a whole submission re-validated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from flask_babel import gettext
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form, FormField, StringField, TextAreaField, fields, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, ValidationError

from . import answers as answers_mod
from . import validators as v
from .conditions import is_empty
from .questionnaire import Question, Questionnaire, QuestionnaireError, Section

YES, NO = "yes", "no"


class ChoiceField(fields.RadioField):
    """Radio buttons whose emptiness is judged by Required, not by pre_validate."""

    def pre_validate(self, form: Any) -> None:
        if self.data in (None, ""):
            return
        if self.data not in {c.value for c in self.iter_choices()}:
            raise ValidationError(v.MESSAGES["choice"])


class SelectChoiceField(fields.SelectField):
    def pre_validate(self, form: Any) -> None:
        ChoiceField.pre_validate(self, form)


class MultiChoiceField(fields.SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        codes = {c.value for c in self.iter_choices()}
        if any(d not in codes for d in self.data or ()):
            raise ValidationError(v.MESSAGES["choice"])


class ParsedInput:
    """A blank input is no answer (for Required to judge); anything else must parse, or get a message for people."""

    message_key = ""

    def normalise(self, raw: str) -> str:
        return raw.strip()

    def process_formdata(self, valuelist: list[str]) -> None:
        if not "".join(valuelist).strip():
            self.data = None  # browsers post empty inputs as ""
            return
        try:
            super().process_formdata([self.normalise(s) for s in valuelist])
        except ValueError:
            self.data = None
            raise ValueError(v.MESSAGES[self.message_key]) from None


class WholeNumberField(ParsedInput, fields.IntegerField):
    message_key = "integer"


class DecimalNumberField(ParsedInput, fields.DecimalField):
    message_key = "decimal"

    def normalise(self, raw: str) -> str:
        return raw.strip().replace(",", ".")


class DateInputField(ParsedInput, fields.DateField):
    widget = widgets.DateInput()
    message_key = "date"


class PageForm(FlaskForm):
    """A wizard page. Only questions that currently apply are validated."""

    def validate_enabled(self, enabled: Collection[str]) -> bool:
        ok = True
        for name, field in self._fields.items():
            if name == "csrf_token":
                ok = field.validate(self) and ok
            elif name in enabled:
                ok = _validate_field(self._questions[name], field, self) and ok
            else:
                field.errors = []
        return ok


def _validate_field(question: Question, field: Any, form: Any) -> bool:
    if question.type != "group":
        return field.validate(form)
    filled = [entry for entry in field.entries if not _row_blank(question, entry.form)]
    field.errors = []
    if not filled and question.required:
        field.errors = [v.required_message(question)]
        return False
    return all([entry.validate(form) for entry in filled])


def _row_blank(question: Question, row_form: Form) -> bool:
    return not _row_answers(question, row_form)


def _validators(question: Question) -> list:
    checks: list = [v.Required(v.required_message(question)) if question.required else v.Skip()]
    if question.type in ("string", "text", "open-choice"):
        checks.append(v.NoControlCharacters(multiline=question.type == "text"))
    if question.max_length:
        checks.append(Length(max=question.max_length, message=v.MESSAGES["length"]))
    if question.type in ("integer", "decimal"):
        checks.append(NumberRange(question.min, question.max, message=v.MESSAGES["range"]))
    if question.format:
        checks.append(v.FORMATS[question.format])
    if question.not_future:
        checks.append(v.DateNotAfterToday())
    if question.not_past:
        checks.append(v.DateNotBeforeToday())
    if question.type == "date":
        checks.append(v.PlausibleDate())
    if question.type == "attachment":
        checks.append(v.PngDataUrl(question.max_bytes))
    if any(c.exclusive for c in question.choices):
        checks.append(v.Exclusive({c.code for c in question.choices if c.exclusive}))
    return checks


def make_field(question: Question) -> Any:
    """Return an unbound WTForms field for `question`."""
    label, checks = question.text, _validators(question)
    choices = [SelectChoice(c.code, c.label) for c in question.choices]
    match question.type:
        case "string" | "open-choice":
            return StringField(label, checks, filters=[v.strip])
        case "text":
            return TextAreaField(label, checks, filters=[v.strip])
        case "integer":
            return WholeNumberField(label, checks)
        case "decimal":
            return DecimalNumberField(label, checks)
        case "date":
            return DateInputField(label, checks, format="%Y-%m-%d")
        case "boolean" if question.widget == "checkbox":
            return fields.BooleanField(label, checks, false_values=("", "n", "no", "false"))
        case "boolean":
            return ChoiceField(label, checks, choices=[SelectChoice(YES, "Yes"), SelectChoice(NO, "No")])
        case "choice" if question.widget == "select":
            return SelectChoiceField(label, checks, choices=[SelectChoice("", "Choose…"), *choices])
        case "choice":
            return ChoiceField(label, checks, choices=choices)
        case "multi-choice":
            return MultiChoiceField(label, checks, choices=choices)
        case "attachment":
            return fields.HiddenField(label, checks)
        case "group":
            row = type(f"{question.link_id}_row", (Form,), {i.link_id: make_field(i) for i in question.items})
            return fields.FieldList(FormField(row, label=label), label=label, min_entries=1, max_entries=question.max_repeats)
    raise QuestionnaireError(f"link_id {question.link_id!r}: {question.type} questions cannot be shown in a form yet")


_classes: dict[tuple[int, str], type[PageForm]] = {}


def form_class(section: Section) -> type[PageForm]:
    """Return the (cached) form class for a section."""
    key = (id(section), section.id)
    if key not in _classes:
        attrs = {q.link_id: make_field(q) for q in section.questions}
        attrs["_questions"] = {q.link_id: q for q in section.questions}
        _classes[key] = type(f"{section.id.title().replace('-', '')}Form", (PageForm,), attrs)
    return _classes[key]


def check_buildable(questionnaire: Questionnaire) -> None:
    """Build every form once, so a definition the forms cannot show fails at start-up."""
    for section in questionnaire.sections:
        form_class(section)


# --- form <-> answers -------------------------------------------------------

def _value(question: Question, field: Any) -> Any:
    data = field.data
    if question.type == "group":
        rows = [_row_answers(question, entry.form) for entry in field.entries]
        return [row for row in rows if row]
    if question.type == "date":
        return data.isoformat() if isinstance(data, dt.date) else None
    if question.type == "boolean":
        if question.widget == "checkbox":
            return True if data else None
        return {YES: True, NO: False}.get(data)
    if question.type == "decimal":
        return float(data) if data is not None else None
    if question.type == "multi-choice":
        picked = set(data or ())
        return [c for c in question.codes if c in picked]
    if question.type == "open-choice" and data:
        lowered = data.casefold()
        # A Spanish reader picks the Spanish label from the list; both store the same code.
        return next((c.code for c in question.choices
                     if lowered in (c.code.casefold(), c.label.casefold(), gettext(c.label).casefold())), data)
    if isinstance(data, str):
        return data.replace("\r\n", "\n") or None
    return data


def _row_answers(question: Question, row_form: Form) -> dict:
    row = {item.link_id: _value(item, row_form[item.link_id]) for item in question.items}
    return {k: val for k, val in row.items() if not is_empty(val)}


def form_answers(section: Section, form: Any, *, valid_only: bool = False) -> dict[str, Any]:
    """Return the answers a page form holds; values that did not parse are left out.

    With `valid_only` (after validate_enabled), values whose field has an error are left out too:
    a draft never stores an answer past its bounds.
    """
    out = {}
    for q in section.questions:
        field = form[q.link_id]
        if valid_only and q.type == "group":
            rows = [{item.link_id: _value(item, entry.form[item.link_id]) for item in q.items
                     if not entry.form[item.link_id].errors} for entry in field.entries]
            out[q.link_id] = [kept for row in rows if (kept := {k: x for k, x in row.items() if not is_empty(x)})]
        elif not (valid_only and field.errors):
            out[q.link_id] = _value(q, field)
    return {k: val for k, val in out.items() if not is_empty(val)}


def checked_answers(section: Section, form_cls: type[PageForm], formdata: Any, stored: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a posted page quietly (its errors are not shown) and return only the answers that passed."""
    probe = form_cls(formdata=formdata, meta={"csrf": False})
    page = form_answers(section, probe)
    probe.validate_enabled(enabled_ids(section, merge(section, stored, page)))
    return form_answers(section, probe, valid_only=True)


def _raw(question: Question, value: Any) -> list[str]:
    if question.type == "boolean":
        if question.widget == "checkbox":
            return ["y"] if value else []
        return [YES if value else NO]
    if question.type == "multi-choice":
        return [str(x) for x in value]
    if question.type == "open-choice" and (choice := question.choice(value)):
        return [gettext(choice.label)]
    return [str(value)]


def answers_formdata(section: Section, answers: Mapping[str, Any]) -> MultiDict:
    """Turn stored answers back into what the page's form would have posted."""
    data = MultiDict()
    for question in section.questions:
        value = answers.get(question.link_id)
        if is_empty(value):
            continue
        if question.type == "group":
            for index, row in enumerate(value):
                for item in question.items:
                    if not is_empty(row.get(item.link_id)):
                        for raw in _raw(item, row[item.link_id]):
                            data.add(f"{question.link_id}-{index}-{item.link_id}", raw)
        else:
            for raw in _raw(question, value):
                data.add(question.link_id, raw)
    return data


def enabled_ids(section: Section, answers: Mapping[str, Any]) -> set[str]:
    return {q.link_id for q in section.questions if answers_mod.is_enabled(q, answers)}


def merge(section: Section, stored: Mapping[str, Any], page: Mapping[str, Any]) -> dict[str, Any]:
    """Replace the section's part of `stored` with `page`."""
    own = {q.link_id for q in section.questions}
    return {**{k: val for k, val in stored.items() if k not in own}, **page}


def section_errors(questionnaire: Questionnaire, answers: Mapping[str, Any],
                   validated: frozenset[str] | set[str] = frozenset()) -> dict[str, PageForm]:
    """Re-validate stored answers section by section; return the forms that fail, by section id.

    `validated` names sections this request has just validated from the same answers (the final page on
    submit): they are not validated twice.
    """
    failing = {}
    for section in questionnaire.sections:
        if section.id in validated:
            continue
        form = form_class(section)(formdata=answers_formdata(section, answers), meta={"csrf": False})
        if not form.validate_enabled(enabled_ids(section, answers)):
            failing[section.id] = form
    return failing

