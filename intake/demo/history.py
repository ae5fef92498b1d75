"""Demo submissions laid out like a clinic group's records, inserted in bulk.

Years of submissions, each sent a few days before its visit; past visits almost
all reviewed, today's and the coming weeks' mostly waiting. Medical answers come
from a pool of generated sets, each given a new patient, a place in time and its
own screening. Batches are built in worker processes when there are many: the
screening of each row is most of the work. References are drawn so that none
is already stored.
"""

from __future__ import annotations

import datetime as dt
import functools
import multiprocessing
import os
import random
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

from sqlalchemy import insert as sql_insert
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import answers as answers_mod
from .. import screening
from ..models import Submission, utcnow
from ..questionnaire import Questionnaire
from ..store import Store
from ..store.submissions import REFERENCE_ALPHABET, search_name
from .patients import generate, person

POOL = 5000  # distinct medical histories to draw from
# Days from sending the form to the visit, and how often each happens.
LEAD_DAYS, LEAD_WEIGHTS = (0, 1, 2, 3, 5, 7, 10, 14, 21), (10, 18, 16, 12, 12, 12, 8, 7, 5)
PARALLEL_FROM = 20_000  # fewer rows are built in this process


def span_for(n: int) -> int:
    """How many days of history n submissions cover: a month for a demo, up to ten years for a clinic group."""
    return max(30, min(3650, n // 100))


def _shift_dates(q: Questionnaire, answers: dict, days: int) -> None:
    """Move every date answer except the birth date by `days`, keeping the intervals screening reads."""
    def shifted(value: str) -> str:
        return (dt.date.fromisoformat(value) + dt.timedelta(days=days)).isoformat()
    for question in q.questions():
        value = answers.get(question.link_id)
        if question.type == "date" and question.link_id != "date_of_birth" and value:
            answers[question.link_id] = shifted(value)
        elif question.type == "group" and value:
            dates = [i.link_id for i in question.items if i.type == "date"]
            for row in value:
                row.update({k: shifted(row[k]) for k in dates if row.get(k)})


def _row(q: Questionnaire, answers: dict, rng: random.Random, now: dt.datetime, span_days: int) -> dict:
    """Place one answer set in the clinic's history: when it was sent, its visit, whether it was reviewed."""
    submitted = now - dt.timedelta(seconds=rng.randint(0, span_days * 86400), microseconds=rng.randint(0, 999_999))
    lead, today = rng.choices(LEAD_DAYS, LEAD_WEIGHTS)[0], now.date()
    if "visit_date" in answers:
        target = submitted.date() + dt.timedelta(days=lead)
        _shift_dates(q, answers, (target - dt.date.fromisoformat(answers["visit_date"])).days)
    visit = dt.date.fromisoformat(answers["visit_date"]) if "visit_date" in answers else None
    seen = visit or submitted.date() + dt.timedelta(days=lead)
    chance = 0.995 if seen < today - dt.timedelta(days=30) else 0.95 if seen < today else 0.5 if seen == today else 0.1
    reviewed = rng.random() < chance
    flags = screening.flag_dicts(answers, submitted.date(), q=q)
    morning = dt.datetime.combine(seen, dt.time(8), dt.UTC) - dt.timedelta(hours=rng.randint(0, 40))
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "reference": "", "submit_token": uuid.uuid4().hex,
        "questionnaire_id": q.id, "questionnaire_version": q.version, "answers": answers,
        "answers_sha256": answers_mod.sha256(answers), "flags": flags, "rules_version": screening.RULES_VERSION,
        "has_stop_flags": any(f["severity"] == "stop" for f in flags), "status": "reviewed" if reviewed else "new",
        "language": "es" if rng.random() < 0.15 else "en", "patient_name": search_name(answers),
        "date_of_birth": dt.date.fromisoformat(answers["date_of_birth"]), "visit_date": visit,
        "reviewed_at": min(now, max(submitted, morning)) if reviewed else None, "created_at": submitted,
        "submitted_at": submitted,
    }


@functools.lru_cache(maxsize=2)
def _pool(seed: int, size: int, today: dt.date) -> tuple[dict, ...]:
    return tuple(generate(size, seed, screening.default_questionnaire(), today))


def batch(seed: int, number: int, size: int, n: int, now: dt.datetime) -> list[dict]:
    """Batch `number` of the n rows: the same rows for the same seed, in any process."""
    q, pool = screening.default_questionnaire(), _pool(seed, min(n, POOL), now.date())
    rng, rows = random.Random(f"{seed}:{number}"), []
    for _ in range(size):
        # A fresh copy of what _shift_dates changes (dates, group rows); the rest is shared and never mutated.
        answers = {k: [dict(r) for r in v] if isinstance(v, list) and v and isinstance(v[0], dict) else v
                   for k, v in rng.choice(pool).items()} | person(rng)
        rows.append(_row(q, answers, rng, now, span_for(n)))
    return rows


def _batches(seed: int, n: int, size: int, now: dt.datetime) -> Iterator[list[dict]]:
    jobs = [(seed, number, min(size, n - start), n, now) for number, start in enumerate(range(0, n, size))]
    workers = min(2, os.cpu_count() or 1) if n >= PARALLEL_FROM else 1
    if workers == 1:
        yield from (batch(*job) for job in jobs)
        return
    # Spawned, not forked: the parent holds database connections and may run threads.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending = [pool.submit(batch, *job) for job in jobs[: 2 * workers]]
        for job in jobs[2 * workers:] + [None] * len(pending):
            done = pending.pop(0).result()
            if job is not None:
                pending.append(pool.submit(batch, *job))
            yield done


def insert(store: Store, n: int, seed: int = 7, batch_size: int = 2000, today: dt.date | None = None,
           progress: Callable[[int], None] | None = None) -> int:
    """Bulk-insert n screened demo submissions (no PDFs rendered); return how many."""
    now = utcnow() if today is None else dt.datetime.combine(today, dt.time(12), dt.UTC)
    rng, done = random.Random(f"{seed}:references"), 0
    for rows in _batches(seed, n, batch_size, now):
        done += _flush(store, rows, rng)
        if progress:
            progress(len(rows))
    return done


def _flush(store: Store, rows: list[dict], rng: random.Random) -> int:
    """Insert a batch under references no stored submission has; retry if a real submit takes one meanwhile."""
    for attempt in range(5):
        refs = _references(rng, len(rows))
        with store.reading() as session:
            while clash := set(session.scalars(select(Submission.reference).where(Submission.reference.in_(refs)))):
                refs = _references(rng, len(rows), keep=[r for r in refs if r not in clash], avoid=clash)
        for row, ref in zip(rows, refs, strict=True):
            row["reference"] = ref
        try:
            with store.writing() as session:
                session.execute(sql_insert(Submission.__table__), rows)  # Core: no ORM bookkeeping per row
            return len(rows)
        except IntegrityError:
            if attempt == 4:
                raise
    return 0


def _reference(rng: random.Random) -> str:
    chars = "".join(rng.choices(REFERENCE_ALPHABET, k=6))
    return f"{chars[:3]}-{chars[3:]}"


def _references(rng: random.Random, count: int, keep: list[str] = (), avoid: set[str] = frozenset()) -> list[str]:
    """`count` distinct references: those in `keep`, then new ones, none of them in `avoid`."""
    refs = dict.fromkeys(keep)
    while len(refs) < count:
        if (ref := _reference(rng)) not in avoid:
            refs[ref] = None
    return list(refs)
