"""Submissions: committed atomically and exactly once per submit token."""

from __future__ import annotations

import secrets
import unicodedata
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from .. import answers as answers_mod
from ..conditions import as_date
from ..models import Draft, Submission, utcnow
from . import Store
from . import appointments as appointment_rows
from . import audit as audit_store
from .drafts import hash_token

# No I, L, O, U, 0 or 1: a reference is read aloud over the phone.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
REFERENCE_TRIES = 5


def new_reference() -> str:
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"{chars[:3]}-{chars[3:]}"


def fold(text: str) -> str:
    """Case- and accent-insensitive form for search: "López" and "lopez" both become "lopez"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def search_name(answers: dict) -> str:
    """The folded names staff can search by."""
    parts = (answers.get(k, "") for k in ("first_name", "last_name", "preferred_name"))
    return fold(" ".join(p.strip() for p in parts if p))[:300]


def submit(
    store: Store,
    *,
    submit_token: str,
    questionnaire_id: str,
    questionnaire_version: str,
    answers: dict,
    flags: list | None = None,
    rules_version: str | None = None,
    language: str = "en",
    draft_token: str | None = None,
    pdf_claim: Callable[[Submission], Any] | None = None,
) -> tuple[Submission, bool]:
    """Store one submission for `submit_token`; return it and whether it is new.

    A second call with the same token, concurrent or later, returns the first
    submission untouched: the UNIQUE constraint on submit_token decides. The
    insert is tried first, so a submit costs one transaction and no read; the
    token is looked up only when the insert is refused. The "submitted" audit
    event (the id and the answers' hash, never patient data) commits in the
    same transaction as the row, or neither does; so does the row `pdf_claim` makes for it (the PDF's
    "queued" claim), so a submit costs one commit however much follows it.
    """
    flags = flags or []
    for _ in range(REFERENCE_TRIES):
        now = utcnow()
        submission = Submission(
            id=str(uuid.uuid4()), reference=new_reference(), submit_token=submit_token,
            questionnaire_id=questionnaire_id, questionnaire_version=questionnaire_version,
            answers=answers, answers_sha256=answers_mod.sha256(answers),
            flags=flags, rules_version=rules_version,
            has_stop_flags=any(f.get("severity") == "stop" for f in flags),
            status="new", language=language, patient_name=search_name(answers),
            date_of_birth=as_date(answers.get("date_of_birth")), visit_date=as_date(answers.get("visit_date")),
            created_at=now, submitted_at=now,
        )
        try:
            with store.writing() as session:
                session.add(submission)
                if pdf_claim is not None:  # the PDF is claimed in the same commit: no second fsync on the request
                    session.flush()  # the row its foreign key names goes first (no relationship orders them)
                    session.add(pdf_claim(submission))
                audit_store.append(session, action="submitted", actor_email="patient", submission_id=submission.id,
                                   detail={"answers_sha256": submission.answers_sha256})
                if draft_token:  # the draft's answers now live in the submission; nothing in this session holds it
                    # An invited patient's appointment gets its submission in the same transaction (intake.appointments).
                    appointment_rows.bind_submission_of_draft(session, hash_token(draft_token), submission.id)
                    session.execute(delete(Draft).where(Draft.token_hash == hash_token(draft_token))
                                    .execution_options(synchronize_session=False))
            return submission, True
        except IntegrityError:
            # Either this token was used already, now or by a concurrent submit (return that submission),
            # or the random reference collided (try another).
            if existing := get_by_token(store, submit_token):
                return existing, False
    raise RuntimeError("could not allocate a unique submission reference")


def get(store: Store, submission_id: str) -> Submission | None:
    with store.reading() as session:
        return session.get(Submission, submission_id)


def get_by_token(store: Store, submit_token: str) -> Submission | None:
    with store.reading() as session:
        return session.scalar(select(Submission).where(Submission.submit_token == submit_token))


def get_by_reference(store: Store, reference: str) -> Submission | None:
    with store.reading() as session:
        return session.scalar(select(Submission).where(Submission.reference == reference.upper()))


def update_flags(store: Store, submission_id: str, flags: list, rules_version: str) -> None:
    """Store recomputed screening flags (answers are never touched)."""
    with store.writing() as session:
        submission = session.get(Submission, submission_id)
        submission.flags = flags
        submission.rules_version = rules_version
        submission.has_stop_flags = any(f.get("severity") == "stop" for f in flags)
