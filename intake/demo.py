"""Realistic, varied demo submissions: for trying the staff side, and for benchmarks.

Answers are generated from the questionnaire definition (every question, its
choices and bounds), with plausible free text and a realistic share of "none"
answers, then pruned exactly as a real submission is.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import insert as sql_insert

from . import answers as answers_mod
from . import screening
from .db import get_store
from .models import Submission, utcnow
from .questionnaire import Question, Questionnaire
from .store import Store
from .store.submissions import new_reference, search_name

FIRST = ["Maria", "Aisha", "Emily", "Sofia", "Grace", "Hannah", "Chloe", "Olivia", "Priya", "Mei", "Fatima", "Lucia",
         "Rachel", "Nora", "Daniel", "James", "Carlos", "Ahmed", "Kenji", "Lauren", "Zoe", "Isabel", "Tom", "Ana"]
LAST = ["López", "Smith", "Nguyen", "Johnson", "García", "Brown", "Patel", "Kim", "Williams", "Okafor", "Rossi",
        "Martin", "Cohen", "Silva", "O'Brien", "Hernández", "Chen", "Davis", "Müller", "Ali", "Walker", "Ito"]
TEXT = {
    "visit_reason": ["Forehead lines bother me in photos.", "My Botox wears off quickly.", "Acne scars on my cheeks.",
                     "I look tired around the eyes.", "Fine lines around my mouth.", "Want fresher skin for a wedding."],
    "goals": ["Softer lines but still natural.", "Smoother cheeks and smaller pores.", "Look rested, not frozen.",
              "Fade the dark spots.", "Longer-lasting results than last time."],
    "other_medications": ["Levothyroxine 50 mcg", "Oral contraceptive", "Sertraline 50 mg", "Metformin 500 mg"],
    "other_allergies": ["Penicillin (rash)", "Sulfa drugs", "Shellfish"],
    "neurotoxin_shortfall": ["Wore off after 6 weeks.", "Lines still visible when I frown.", "One brow higher."],
    "upcoming_event": ["Wedding in March", "Graduation in June", "Holiday in two months"],
    "cancer_treatment_area": ["Breast, radiation ended in May"],
}
# How often a medical checklist is just "none" (most patients are healthy).
NONE_SHARE = 0.8


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> str:
    return (start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))).isoformat()


def _value(rng: random.Random, q: Question, today: dt.date, person: dict) -> object:
    if q.link_id in person:
        return person[q.link_id]
    if q.link_id in TEXT:
        return rng.choice(TEXT[q.link_id]) if q.required or rng.random() < 0.4 else None
    match q.type:
        case "string" | "text" | "open-choice":
            return rng.choice([c.label for c in q.choices]) if q.choices else None
        case "integer":
            return rng.randint(int(q.min), int(min(q.max, 60))) if rng.random() < 0.7 else None
        case "date":
            if q.not_past:
                return _date_between(rng, today, today + dt.timedelta(days=21))
            return _date_between(rng, today - dt.timedelta(days=400), today - dt.timedelta(days=2))
        case "boolean":
            return True if q.widget == "checkbox" else rng.random() < 0.5
        case "choice":
            if "none" in q.codes and rng.random() < NONE_SHARE:
                return "none"
            return rng.choice(q.codes) if q.required or rng.random() < 0.6 else None
        case "multi-choice":
            exclusive = [c.code for c in q.choices if c.exclusive]
            if exclusive and rng.random() < NONE_SHARE:
                return exclusive[:1]
            others = [c for c in q.codes if c not in exclusive]
            return sorted(rng.sample(others, rng.randint(1, min(2, len(others)))), key=q.codes.index)
        case "group":
            return [{i.link_id: v for i in q.items if (v := _value(rng, i, today, {})) is not None}
                    for _ in range(rng.randint(1, 3))]
    return None


def generate(n: int, seed: int = 7, q: Questionnaire | None = None, today: dt.date | None = None) -> Iterator[dict]:
    """Yield n answer sets, reproducible for a given seed."""
    q = q or screening.default_questionnaire()
    today = today or dt.date.today()
    rng = random.Random(seed)
    for _ in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        person = {
            "first_name": first, "last_name": last, "preferred_name": None,
            "date_of_birth": _date_between(rng, dt.date(1958, 1, 1), dt.date(2004, 12, 31)),
            "sex_at_birth": rng.choices(["female", "male", "intersex", "undisclosed"], [85, 12, 1, 2])[0],
            "phone": f"555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            "email": f"{first}.{last}{rng.randint(1, 99)}@example.com".lower().replace("'", ""),
            "emergency_contact_name": f"{rng.choice(FIRST)} {last}",
            "emergency_contact_phone": f"555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            "signature_name": f"{first} {last}", "signature_drawing": None,
            "neurotoxin_ever": rng.random() < 0.6,
        }
        answers = {q_.link_id: v for q_ in q.questions() if (v := _value(rng, q_, today, person)) is not None}
        yield answers_mod.prune(q, answers)


def insert(store: Store, n: int, seed: int = 7, batch: int = 1000, today: dt.date | None = None) -> int:
    """Bulk-insert n screened demo submissions (no PDFs rendered); return how many."""
    today = today or dt.date.today()
    q = screening.default_questionnaire()
    rows, done, spread = [], 0, random.Random(seed)
    for answers in generate(n, seed, q, today):
        submitted = utcnow() - dt.timedelta(minutes=spread.randint(0, 60 * 24 * 60))
        flags = screening.flag_dicts(answers, submitted.date(), q=q)
        rows.append({
            "id": str(uuid.uuid4()), "reference": new_reference(), "submit_token": uuid.uuid4().hex,
            "questionnaire_id": q.id, "questionnaire_version": q.version, "answers": answers,
            "answers_sha256": answers_mod.sha256(answers), "flags": flags, "rules_version": screening.RULES_VERSION,
            "has_stop_flags": any(f["severity"] == "stop" for f in flags), "status": "new", "language": "en",
            "patient_name": search_name(answers), "date_of_birth": dt.date.fromisoformat(answers["date_of_birth"]),
            "visit_date": dt.date.fromisoformat(answers["visit_date"]) if "visit_date" in answers else None,
            "created_at": submitted, "submitted_at": submitted,
        })
        if len(rows) >= batch:
            done += _flush(store, rows)
    return done + _flush(store, rows)


def _flush(store: Store, rows: list[dict]) -> int:
    count = len(rows)
    if rows:
        with store.writing() as session:
            session.execute(sql_insert(Submission), rows)
        rows.clear()
    return count


@click.command("demo-data")
@with_appcontext
@click.argument("count", type=click.IntRange(1, 100_000))
@click.option("--seed", default=7, show_default=True, help="Same seed, same patients.")
def demo_data_command(count: int, seed: int) -> None:
    """Create COUNT realistic, varied demo submissions (no real patients)."""
    with click.progressbar(length=count, label="Creating demo submissions") as bar:
        made = 0
        while made < count:
            step = min(1000, count - made)
            insert(get_store(), step, seed=seed + made)
            made += step
            bar.update(step)
    click.echo(f"Created {count} demo submissions in {current_app.config['DATABASE_URL'].split('://')[0]}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_data_command)
