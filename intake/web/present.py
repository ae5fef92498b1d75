"""Small helpers that turn stored records and request input into what staff pages show."""

from __future__ import annotations

import datetime as dt
import logging
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from flask import current_app, g
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.datastructures import MultiDict

from .. import answers as answers_mod
from .. import auth, questionnaire_ext, summary
from ..screening import SEVERITIES
from ..store.search import Filters

log = logging.getLogger(__name__)


def display_name(answers: dict | None) -> str:
    """“López, Maria (Mari)”: how the front desk finds a chart."""
    answers = answers or {}
    last, first = answers.get("last_name", "").strip(), answers.get("first_name", "").strip()
    name = ", ".join(p for p in (last, first) if p) or "(no name given)"
    preferred = answers.get("preferred_name", "").strip()
    return f"{name} ({preferred})" if preferred and preferred != first else name


def flag_counts(flags: list | None) -> list[tuple[str, int]]:
    """[(severity, how many)] in severity order, for the badges."""
    counted = Counter(f.get("severity") for f in flags or ())
    return [(s, counted[s]) for s in SEVERITIES if counted[s]]


def count_text(n: int, cap: int, seen: int = 0) -> str:
    """1234 -> "1,234"; past the cap, "10,000+" (or "50,000+" once 50,000 rows were shown): counting
    further would cost more than it tells."""
    return f"{max(cap, seen):,}+" if n > cap else f"{n:,}"


def sorted_flags(flags: list | None) -> list[dict]:
    """Stop first, then review, then note; the order the physician reads them."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(flags or (), key=lambda f: rank.get(f.get("severity"), len(rank)))


def clinic_time(value: dt.datetime | None, seconds: bool = False) -> str:
    from ..export import clinic_zone

    if value is None:
        return ""
    return value.astimezone(clinic_zone()).strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))


def _date(source: MultiDict, key: str, label: str, problems: list[str]) -> dt.date | None:
    text = (source.get(key) or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(f"“{label}” should be a date like 2026-01-31; it was left out of the filter.")
        return None


@dataclass(frozen=True)
class Cursor:
    """Where a dashboard page starts: after (or before) one submission, and the page's number for display.

    It travels as an opaque, signed token in the pager's buttons; it names a row by its id only, so it
    carries nothing about the patient, and a token from elsewhere is ignored, not an error.
    """

    submission_id: str
    forwards: bool
    page: int

    def token(self) -> str:
        return _cursor_signer().dumps([self.submission_id, "after" if self.forwards else "before", self.page])

    @classmethod
    def parse(cls, token: str | None) -> Cursor | None:
        try:
            submission_id, direction, page = _cursor_signer().loads((token or "")[:200])
            return cls(str(uuid.UUID(submission_id)), direction == "after", max(1, min(int(page), 1_000_000)))
        except (BadSignature, ValueError, TypeError):
            return None


def _cursor_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="intake.staff.dashboard-cursor")


def filters_from(source: MultiDict, *, allow_q: bool) -> tuple[Filters, Cursor | None, list[str]]:
    """Read the dashboard's filters and page cursor; a bad value is reported and ignored, never an error page."""
    problems: list[str] = []
    status = source.get("status", "")
    filters = Filters(
        q=(source.get("q", "") if allow_q else "")[:100],
        visit_from=_date(source, "visit_from", "Visit from", problems),
        visit_to=_date(source, "visit_to", "Visit to", problems),
        status=status if status in ("new", "reviewed") else "",
        stop=source.get("stop") in ("1", "on", "true"),
    )
    return filters, Cursor.parse(source.get("cursor")), problems


def staff_context() -> dict[str, Any]:
    return {"staff_user": g.get("staff_user"), "can": auth.can, "role_names": auth.ROLES}


def all_answers(submission: Any) -> list[dict[str, Any]]:
    """Every answer by section, as label/text pairs; repeating groups as numbered rows."""
    q = questionnaire_ext.get()
    answers = submission.answers or {}
    sections = []
    for section in q.sections:
        items = []
        for question in section.questions:
            value = answers.get(question.link_id)
            if question.type == "group":
                rows = [[(i.text, answers_mod.format_answer(i, (row or {}).get(i.link_id))) for i in question.items
                         if answers_mod.format_answer(i, (row or {}).get(i.link_id))] for row in (value or [])]
                if rows:
                    items.append({"label": question.text, "rows": rows})
            elif text := answers_mod.format_answer(question, value):
                raw = value if question.type == "attachment" and str(value).startswith("data:image/png;base64,") else None
                items.append({"label": question.text, "text": text, "type": question.type if raw else "", "raw": raw})
        if items:
            sections.append({"title": section.title, "items": items})
    return sections


def summary_for(submission: Any) -> dict | None:
    """The physician summary as data (intake.summary, the PDF's source), or None if it cannot be built."""
    try:
        return summary.build(submission, questionnaire_ext.get())
    except Exception as exc:  # noqa: BLE001 - the page still shows every answer; the log says why the summary is missing
        # The stack, never the message: it may quote an answer.
        log.error("summary for %s could not be built: %s\n%s", submission.id, type(exc).__name__,
                  "".join(traceback.format_tb(exc.__traceback__)))
        return None


def label(key: Any) -> str:
    """A summary key as a heading: neurotoxin_history -> Neurotoxin history."""
    return str(key).replace("_", " ").strip().capitalize()
