"""The patient's side of a carried-forward form: what each page and the review say, in the patient's language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask_babel import format_date

from ..models import utcnow
from ..questionnaire import Section
from .history import confirm, record_of, unconfirmed


def source_date(record: Mapping[str, Any]) -> str:
    """The earlier form's date as the patient reads it ("12 March 2026", "12 de marzo de 2026")."""
    return format_date(dt.date.fromisoformat(record["from"]), "long")


def page_note(answers: Mapping[str, Any], section_id: str) -> dict | None:
    """What the page says about its carried answers: their date, which, and whether confirmed; None if none."""
    record = record_of(answers, section_id)
    if record is None:
        return None
    return {"date": source_date(record), "confirmed": bool(record.get("confirmed")),
            "link_ids": set(record.get("link_ids") or ())}


def confirm_page(section: Section, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The page was saved with Next: its carried answers, as they stand now, are confirmed by the patient."""
    return confirm(section, answers, utcnow())


def waiting(answers: Mapping[str, Any]) -> dict[str, str]:
    """Carried sections still to confirm, by section id, with their earlier form's date."""
    return {sid: source_date(record_of(answers, sid)) for sid in unconfirmed(answers)}
