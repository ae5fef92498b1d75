"""Field validators with messages written for patients."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms.validators import Regexp, StopValidation, ValidationError

from .conditions import is_empty

MESSAGES = {
    "required": _l("Please answer this question."),
    "required_choice": _l("Choose one of the answers."),
    "required_multi": _l("Tick at least one box."),
    "required_date": _l("Enter a date."),
    "required_number": _l("Enter a number."),
    "required_tick": _l("Tick the box to go on."),
    "choice": _l("Please choose one of the options."),
    "integer": _l("Please enter a whole number, like 20."),
    "decimal": _l("Please enter a number, like 2.5."),
    "date": _l("Please enter a full date: day, month and year."),
    "length": _l("Please keep this to %(max)d characters or fewer."),
    "range": _l("Please enter a number from %(min)s to %(max)s."),
    "future": _l("This date can't be in the future."),
    "past": _l("This date can't be in the past."),
    "implausible": _l("Please check the year."),
    "exclusive": _l("“%(label)s” can't be ticked together with other answers."),
    "group": _l("Please fill in at least one entry."),
    "email": _l("Please enter an email address like name@example.com."),
    "phone": _l("Please enter a phone number using digits, like 555 123 4567."),
    "drawing": _l("The drawing could not be read. Please clear it and draw again, or leave it empty."),
    "control": _l("This answer contains invisible characters, often from copying and pasting. Please type it again."),
}

FORMATS = {
    "email": Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=MESSAGES["email"]),
    "phone": Regexp(r"^\+?[0-9][0-9 ().\-]{5,24}$", message=MESSAGES["phone"]),
}

# The rule by type, for a required question whose definition names no required_message of its own.
REQUIRED_BY_TYPE = {"choice": "required_choice", "open-choice": "required", "boolean": "required_choice",
                    "multi-choice": "required_multi", "date": "required_date", "integer": "required_number",
                    "decimal": "required_number", "group": "group", "zone-map": "required_multi"}


def required_message(question: Any) -> Any:
    """What to say when a required question is left blank: its own message from the YAML, else the rule by type."""
    if question.required_message:
        return _l(question.required_message)
    if question.type == "boolean" and question.widget == "checkbox":
        return MESSAGES["required_tick"]
    return MESSAGES[REQUIRED_BY_TYPE.get(question.type, "required")]


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value

class Required:
    """Fail, and stop, when the field holds no answer. Unlike DataRequired, 0 and "no" count."""

    field_flags = {"required": False}

    def __init__(self, message: Any = None) -> None:
        self.message = message or MESSAGES["required"]

    def __call__(self, form: Any, field: Any) -> None:
        if field.process_errors:
            raise StopValidation()  # "not a number" already says it; don't pile on
        unticked = field.type == "BooleanField" and not field.data
        if is_empty(field.data) or unticked:
            field.errors[:] = []
            raise StopValidation(self.message)

class Skip:
    """Stop validating an optional field that was left empty."""

    def __call__(self, form: Any, field: Any) -> None:
        if field.process_errors:
            raise StopValidation()
        if is_empty(field.data):
            field.errors[:] = []
            raise StopValidation()

class NoControlCharacters:
    """Refuse NUL and other control characters; long text may keep tabs and line breaks."""

    def __init__(self, multiline: bool = False) -> None:
        from .web.input_guard import CONTROL, CONTROL_IN_TEXT

        self.pattern = CONTROL_IN_TEXT if multiline else CONTROL

    def __call__(self, form: Any, field: Any) -> None:
        raw = field.raw_data or []
        if any(isinstance(v, str) and self.pattern.search(v) for v in raw) or (
                isinstance(field.data, str) and self.pattern.search(field.data)):
            raise StopValidation(MESSAGES["control"])

class DateNotAfterToday:
    def __call__(self, form: Any, field: Any) -> None:
        if isinstance(field.data, dt.date) and field.data > dt.date.today():
            raise ValidationError(MESSAGES["future"])

class DateNotBeforeToday:
    def __call__(self, form: Any, field: Any) -> None:
        if isinstance(field.data, dt.date) and field.data < dt.date.today():
            raise ValidationError(MESSAGES["past"])

class PlausibleDate:
    """Catch a mistyped year (0198, 2202) that a date input will happily accept."""

    def __call__(self, form: Any, field: Any) -> None:
        if isinstance(field.data, dt.date) and not 1900 <= field.data.year <= dt.date.today().year + 2:
            raise ValidationError(MESSAGES["implausible"])

class Exclusive:
    """An exclusive choice such as "None of these" cannot be combined with others."""

    def __init__(self, codes: set[str]) -> None:
        self.codes = codes

    def __call__(self, form: Any, field: Any) -> None:
        picked = set(field.data or ())
        for code in picked & self.codes:
            if len(picked) > 1:
                label = next((gettext(c.label) for c in field.iter_choices() if c.value == code), code)
                raise ValidationError(MESSAGES["exclusive"] % {"label": label})



class PngDataUrl:
    """A drawing arrives as a data: URL; accept only a real PNG no larger than max_bytes."""

    PREFIX = "data:image/png;base64,"
    MAGIC = b"\x89PNG\r\n\x1a\n"

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def __call__(self, form: Any, field: Any) -> None:
        value = field.data or ""
        if not value.startswith(self.PREFIX) or len(value) > len(self.PREFIX) + self.max_bytes * 4 // 3 + 4:
            raise ValidationError(MESSAGES["drawing"])
        try:
            png = base64.b64decode(value[len(self.PREFIX):], validate=True)
        except (ValueError, binascii.Error):
            raise ValidationError(MESSAGES["drawing"]) from None
        if not png.startswith(self.MAGIC) or len(png) > self.max_bytes:
            raise ValidationError(MESSAGES["drawing"])
