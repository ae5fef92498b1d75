"""Returning patients: a staff-issued invitation starts a form with the earlier history carried forward.

Owns: which answers are carried (the `carry_forward: true` questions of the questionnaire, never
identity or consent), the record of what was carried and confirmed (answers["_carried"], see history.py),
and the patient-side rules: each carried section asks "Is this still right?", and the review page and
submit refuse while one is unconfirmed (intake.returning.flow, used by intake.web.patient).

May import: the domain core (questionnaire, answers, conditions), intake.store, intake.audit.

Security: the ONLY way in is start_carried_draft(), called by the invitation landing (issue 12,
appointments), where a staff member chose the earlier submission. No patient route matches by name
or date of birth, and nothing a patient posts can name an earlier submission.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import answers as answers_mod
from .. import audit, questionnaire_ext
from ..models import Draft
from ..store import Store, drafts, submissions
from .history import CARRIED, carried_sections, carry, confirm, record_of, unconfirmed

__all__ = ["CARRIED", "EarlierSubmissionMissing", "carried_sections", "carry", "confirm", "record_of", "start_carried_draft",
           "unconfirmed"]


class EarlierSubmissionMissing(LookupError):
    """The earlier submission named by the appointment no longer exists (erased, or a wrong id)."""


def start_carried_draft(store: Store, earlier_submission_id: str, *, language: str = "en",
                        prefill: Mapping[str, Any] | None = None,
                        appointment_id: int | str | None = None) -> tuple[str, Draft]:
    """Start a new draft with the history of `earlier_submission_id` carried forward; return (resume token, draft).

    Call it only from the staff-issued invitation's landing page, when the appointment names an earlier
    submission. Same return shape as intake.store.drafts.create: remember the token with
    intake.web.draft_access.remember(token) and redirect to the first page.

    - Copies the earlier answers of the `carry_forward` questions (conditions, medications, allergies, past
      neurotoxin rows, Fitzpatrick skin type, prior procedures), decrypted through the store and stored
      again, encrypted, in the draft. Identity and consent are never copied.
    - `prefill` is what the appointment knows (first_name, last_name, email, phone, visit_date): only
      answers of the first section (identity) are taken from it; anything else is ignored.
    - Records the audit event "history_carried" (the earlier submission's id, the draft id, the carried
      section ids and the appointment id: never an answer) in the same transaction as the draft.
    - Raises EarlierSubmissionMissing when the earlier submission does not exist.
    Needs an app context (it reads the loaded questionnaire).
    """
    earlier = submissions.get(store, earlier_submission_id)
    if earlier is None:
        raise EarlierSubmissionMissing(earlier_submission_id)
    q = questionnaire_ext.get()
    identity = {question.link_id for question in q.sections[0].questions}
    given = {k: v for k, v in (prefill or {}).items() if k in identity}
    carried = carry(q, earlier.answers or {}, source_date=earlier.submitted_at.date(), source_id=earlier.id)
    answers = answers_mod.prune(q, {**given, **carried})
    sections = sorted((carried.get(CARRIED) or {}).get("sections", {}))

    def record(session: Any, draft: Draft) -> None:
        audit.record_in(session, "history_carried", submission_id=earlier.id, actor_email="patient",
                        detail={"draft_id": draft.id, "sections": sections, "appointment_id": appointment_id})

    return drafts.create(store, q.sections[0].id, language, answers=answers, audit=record)
