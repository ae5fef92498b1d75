"""Reading an appointment from what staff typed or a booking system exported: one rule set for both.

read(values) takes plain strings (the add and change forms' fields, or one CSV row) and returns the cleaned
values and {field: message}. Messages are for the front desk and say how to fix the value.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from ..export import clinic_zone
from ..web.input_guard import CONTROL
from . import LANGUAGES, TREATMENTS

NAME_MAX = 200
EMAIL_MAX = 254
MOBILE_MAX = 30
REFERENCE_MAX = 12
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9][0-9 ().\-]{5,24}$")
REFERENCE = re.compile(r"^[A-Za-z0-9]{3}-?[A-Za-z0-9]{3}$")
TREATMENT_LABELS = {"neurotoxin": "Neurotoxin", "microneedling": "Micro-needling", "both": "Neurotoxin and micro-needling",
                    "consultation": "Consultation only"}
LANGUAGE_LABELS = {"en": "English", "es": "Spanish"}
# Words a booking system may use for the treatments, folded to lower case without spaces or dashes.
TREATMENT_WORDS = {"neurotoxin": "neurotoxin", "botox": "neurotoxin", "toxin": "neurotoxin", "tox": "neurotoxin",
                   "microneedling": "microneedling", "needling": "microneedling", "both": "both",
                   "neurotoxinandmicroneedling": "both", "consultation": "consultation",
                   "consultationonly": "consultation", "consult": "consultation", "": ""}
TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p", "%I %p", "%I%p", "%H.%M", "%Hh%M")


@dataclass
class Reading:
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_date(text: str) -> dt.date | None:
    """2026-11-26 (ISO), 26/11/2026 and 26.11.2026 (day first, as Spanish and European systems write it).
    A month-first date such as 11/26/2026 is refused with a message, never guessed."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_time(text: str) -> dt.time | None:
    text = re.sub(r"\s+", " ", text.strip().upper().replace(".M.", "M").replace("A.M", "AM").replace("P.M", "PM"))
    for fmt in TIME_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).time()
        except ValueError:
            continue
    return None


def _text(values: dict, key: str, limit: int) -> str:
    value = str(values.get(key) or "").strip()
    return value[: limit * 4]  # long enough to report "too long", never unbounded


def read(values: dict, *, now: dt.datetime, default_treatments: str = "", default_language: str = "en",
         booked: dt.datetime | None = None) -> Reading:
    """Check one appointment's fields; values: name, email, mobile, date, time, treatments, language, earlier.

    booked: when changing an appointment, its visit as booked: kept unchanged, it is not refused as past
    (the front desk may correct an e-mail address while the patient is at the desk)."""
    out = Reading()
    errors = out.errors
    for key in ("name", "email", "mobile", "date", "time", "treatments", "language", "earlier"):
        if CONTROL.search(str(values.get(key) or "")):
            errors[key] = "This holds characters that cannot be stored (e.g. a line break). Retype it."
    name = " ".join(_text(values, "name", NAME_MAX).split())
    if "name" not in errors:
        if not name:
            errors["name"] = "Enter the patient’s name."
        elif len(name) > NAME_MAX:
            errors["name"] = f"The name is too long: at most {NAME_MAX} characters."
    email = _text(values, "email", EMAIL_MAX)
    if email and "email" not in errors:
        if len(email) > EMAIL_MAX or not EMAIL.match(email):
            errors["email"] = "Enter an e-mail address like name@example.com."
    mobile = _text(values, "mobile", MOBILE_MAX)
    if mobile and "mobile" not in errors:
        if len(mobile) > MOBILE_MAX or not PHONE.match(mobile):
            errors["mobile"] = "Enter a mobile number using digits, like +34 600 123 456."
    if not email and not mobile and "email" not in errors and "mobile" not in errors:
        errors["email"] = "Enter an e-mail address or a mobile number (at least one), so the patient can get the link."
    day = parse_date(_text(values, "date", 20)) if values.get("date") else None
    if "date" not in errors:
        if not values.get("date"):
            errors["date"] = "Enter the visit date."
        elif day is None:
            errors["date"] = "Enter the date like 2026-11-26 (or 26/11/2026, day first)."
    hour = parse_time(_text(values, "time", 20)) if values.get("time") else None
    if "time" not in errors:
        if not values.get("time"):
            errors["time"] = "Enter the visit time."
        elif hour is None:
            errors["time"] = "Enter the time like 14:30 (or 2:30 pm)."
    visit_at = None
    if day and hour:
        visit_at = dt.datetime.combine(day, hour, clinic_zone()).astimezone(dt.UTC)
        if visit_at < now and visit_at != booked:
            errors["date"] = "This visit is in the past. Check the date and time."
        elif visit_at > now + dt.timedelta(days=366):
            errors["date"] = "This visit is more than a year away. Check the year."
    word = re.sub(r"[\s_\-/&+]", "", _text(values, "treatments", 40).lower())
    treatments = TREATMENT_WORDS.get(word) or default_treatments
    if "treatments" not in errors and treatments not in TREATMENTS:
        errors["treatments"] = "Choose the treatments: neurotoxin, micro-needling, both, or consultation only."
    language = (_text(values, "language", 10).lower()[:2] or default_language)
    language = {"sp": "es", "ca": "es", "in": "en"}.get(language, language)
    if "language" not in errors and language not in LANGUAGES:
        errors["language"] = "Choose English or Spanish."
    earlier = _text(values, "earlier", REFERENCE_MAX).upper()
    if earlier and "earlier" not in errors and not REFERENCE.match(earlier):
        errors["earlier"] = "Enter the earlier form’s reference like ABC-DEF, or leave it blank."
    if earlier and len(earlier) == 6:
        earlier = f"{earlier[:3]}-{earlier[3:]}"
    out.values = {"patient_name": name, "email": email or None, "mobile": mobile or None, "visit_at": visit_at,
                  "treatments": treatments, "language": language, "earlier": earlier}
    return out
