"""Realistic, varied demo submissions: for trying the staff side, and for benchmarks.

Answers are generated from the questionnaire definition (every question, its
choices and bounds), with plausible free text and a realistic share of "none"
answers, then pruned exactly as a real submission is.

`insert` lays them out like a clinic group's records: years of submissions,
each a few days before its visit, past visits almost all reviewed, and today's
and the coming weeks' visits mostly waiting for review.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable, Iterator

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import insert as sql_insert
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import answers as answers_mod
from . import screening
from .db import get_store
from .models import Submission, utcnow
from .questionnaire import Question, Questionnaire
from .store import Store
from .store.submissions import REFERENCE_ALPHABET, search_name

# Many names, as a group of clinics sees them; a few two-letter surnames, accents, apostrophes.
FIRST = ("Maria Aisha Emily Sofia Grace Hannah Chloe Olivia Priya Mei Fatima Lucia Rachel Nora Daniel James Carlos Ahmed "
         "Kenji Lauren Zoe Isabel Tom Ana Amara Beatriz Camille Chiara Dana Elena Esther Farah Gabriela Hana Ines Ingrid "
         "Jasmine Julia Keiko Leila Lina Mariana Marta Mónica Nadia Naomi Paola Rosa Sakura Sara Simone Sun-Hee Tanvi "
         "Valentina Yasmin Zainab Ximena Adriana Alicia Bianca Carmen Claudia Daniela Diana Eva Fernanda Gloria Irene "
         "Jessica Karen Laura Linda Lorena Lucía Magdalena Marisol Michelle Natalia Patricia Raquel Renée Sandra Silvia "
         "Sophie Susana Teresa Verónica Victoria Yolanda Ayesha Chen Divya Ewa Frida Greta Heidi Ivana Jana Katarzyna "
         "Li Ling Malak Nour Oksana Petra Qiu Rania Shirin Thu Uma Vanessa Wen Yuki Zoë Andrés David Diego Hugo Javier "
         "José Luis Marco Mohammed Omar Pablo Rafael Samuel Thomas Victor William").split()
LAST = ("López Smith Nguyen Johnson García Brown Patel Kim Williams Okafor Rossi Martin Cohen Silva O'Brien Hernández Chen "
        "Davis Müller Ali Walker Ito Wu Li Ng Ho Yu Le Xu Adeyemi Ahmed Alvarez Andersen Bakker Banerjee Becker Bianchi "
        "Castillo Castro Chaudhry Costa Cruz Dubois Díaz Eriksson Esposito Fernández Ferrari Fischer Flores Fontaine "
        "Gómez González Gupta Gutiérrez Haddad Hansen Hoffmann Hughes Ibrahim Jackson Jansen Jiménez Kaur Khan Kowalski "
        "Kumar Larsen Laurent Lee Lefèvre Lindqvist Marín Martínez Mehta Mendoza Moreau Morales Moreno Murphy Nakamura "
        "Navarro Nielsen Novak Núñez O'Connor Okonkwo Ortiz Pereira Pérez Petrov Popescu Quispe Ramírez Ramos Reyes "
        "Richter Rivera Rodríguez Romero Rubio Ruiz Saito Sánchez Santos Schmidt Schneider Sharma Singh Sokolov Suárez "
        "Takahashi Tanaka Torres Tran Vargas Vázquez Wagner Wang Weber Wójcik Yamamoto Yilmaz Zhang Zimmermann "
        "Abramowicz Achterberg Bergström D'Angelo Fitzgerald Håkansson MacDonaldPapadopoulos Vandenberg").split()
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
# Distinct medical histories to draw from when inserting many.
POOL = 5000
# Days from submitting the form to the visit, and how often each happens.
LEAD_DAYS, LEAD_WEIGHTS = (0, 1, 2, 3, 5, 7, 10, 14, 21), (10, 18, 16, 12, 12, 12, 8, 7, 5)


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
                return _date_between(rng, today, today + dt.timedelta(days=21)) if rng.random() < 0.95 else None
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


def _person(rng: random.Random) -> dict:
    """Who the patient is: names, birth date, contact details, signature."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if rng.random() < 0.08:  # two surnames, as many Spanish-speaking patients give them
        last = f"{last} {rng.choice(LAST)}"
    return {
        "first_name": first, "last_name": last,
        "date_of_birth": _date_between(rng, dt.date(1958, 1, 1), dt.date(2004, 12, 31)),
        "phone": f"555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        "email": f"{first}.{last}{rng.randint(1, 99)}@example.com".lower().replace("'", "").replace(" ", ""),
        "emergency_contact_name": f"{rng.choice(FIRST)} {last}",
        "emergency_contact_phone": f"555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        "signature_name": f"{first} {last}",
    }


def generate(n: int, seed: int = 7, q: Questionnaire | None = None, today: dt.date | None = None) -> Iterator[dict]:
    """Yield n answer sets as if submitted `today`, reproducible for a given seed."""
    q = q or screening.default_questionnaire()
    today = today or dt.date.today()
    rng = random.Random(seed)
    for _ in range(n):
        person = _person(rng) | {
            "sex_at_birth": rng.choices(["female", "male", "intersex", "undisclosed"], [85, 12, 1, 2])[0],
            "preferred_name": None, "signature_drawing": None, "neurotoxin_ever": rng.random() < 0.6,
        }
        answers = {q_.link_id: v for q_ in q.questions() if (v := _value(rng, q_, today, person)) is not None}
        yield answers_mod.prune(q, answers)


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
    lead = rng.choices(LEAD_DAYS, LEAD_WEIGHTS)[0]
    today = now.date()
    if "visit_date" in answers:
        _shift_dates(q, answers, (submitted.date() + dt.timedelta(days=lead) - dt.date.fromisoformat(answers["visit_date"])).days)
    visit = dt.date.fromisoformat(answers["visit_date"]) if "visit_date" in answers else None
    seen = visit or submitted.date() + dt.timedelta(days=lead)
    chance = 0.995 if seen < today - dt.timedelta(days=30) else 0.95 if seen < today else 0.5 if seen == today else 0.1
    reviewed = rng.random() < chance
    flags = screening.flag_dicts(answers, submitted.date(), q=q)
    reviewed_at = min(now, max(submitted, dt.datetime.combine(seen, dt.time(8), dt.UTC) - dt.timedelta(hours=rng.randint(0, 40))))
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "reference": "", "submit_token": uuid.uuid4().hex,
        "questionnaire_id": q.id, "questionnaire_version": q.version, "answers": answers,
        "answers_sha256": answers_mod.sha256(answers), "flags": flags, "rules_version": screening.RULES_VERSION,
        "has_stop_flags": any(f["severity"] == "stop" for f in flags), "status": "reviewed" if reviewed else "new",
        "language": "es" if rng.random() < 0.15 else "en", "patient_name": search_name(answers),
        "date_of_birth": dt.date.fromisoformat(answers["date_of_birth"]), "visit_date": visit,
        "reviewed_at": reviewed_at if reviewed else None, "created_at": submitted, "submitted_at": submitted,
    }


def span_for(n: int) -> int:
    """How many days of history n submissions cover: a month for a demo, up to ten years for a clinic group."""
    return max(30, min(3650, n // 100))


def insert(store: Store, n: int, seed: int = 7, batch: int = 2000, today: dt.date | None = None,
           progress: Callable[[int], None] | None = None) -> int:
    """Bulk-insert n screened demo submissions (no PDFs rendered); return how many.

    Medical answers come from a pool of POOL generated sets, each given a new
    patient, a place in time and its own screening: a million rows take minutes.
    """
    q = screening.default_questionnaire()
    now = utcnow() if today is None else dt.datetime.combine(today, dt.time(12), dt.UTC)
    pool = list(generate(min(n, POOL), seed, q, now.date()))
    rng, rows, done = random.Random(seed * 7919 + 1), [], 0  # not the pool's stream: independent draws
    for _ in range(n):
        body = rng.choice(pool)
        # A fresh copy of what _shift_dates changes (dates, group rows); the rest is shared and never mutated.
        answers = {k: [dict(r) for r in v] if isinstance(v, list) and v and isinstance(v[0], dict) else v
                   for k, v in body.items()} | _person(rng)
        rows.append(_row(q, answers, rng, now, span_for(n)))
        if len(rows) >= batch:
            done += _flush(store, rows, rng, progress)
    return done + _flush(store, rows, rng, progress)


def _flush(store: Store, rows: list[dict], rng: random.Random, progress: Callable[[int], None] | None) -> int:
    """Insert a batch under references no stored submission has; retry if a real submit takes one meanwhile."""
    count = len(rows)
    if not rows:
        return 0
    for attempt in range(5):
        with store.reading() as session:
            refs = _references(rng, count)
            while clash := set(session.scalars(select(Submission.reference).where(Submission.reference.in_(refs)))):
                refs = [_reference(rng) if r in clash else r for r in refs]  # ~1 in 700 at a million rows
        for row, ref in zip(rows, refs, strict=True):
            row["reference"] = ref
        try:
            with store.writing() as session:
                session.execute(sql_insert(Submission), rows)
            break
        except IntegrityError:
            if attempt == 4:
                raise
    rows.clear()
    if progress:
        progress(count)
    return count


def _reference(rng: random.Random) -> str:
    chars = "".join(rng.choices(REFERENCE_ALPHABET, k=6))
    return f"{chars[:3]}-{chars[3:]}"


def _references(rng: random.Random, count: int) -> list[str]:
    """`count` distinct references."""
    refs: dict[str, None] = {}
    while len(refs) < count:
        refs[_reference(rng)] = None
    return list(refs)


@click.command("demo-data")
@with_appcontext
@click.argument("count", type=click.IntRange(1, 5_000_000))
@click.option("--seed", default=7, show_default=True, help="Same seed, same patients.")
def demo_data_command(count: int, seed: int) -> None:
    """Create COUNT realistic, varied demo submissions (no real patients), spread over up to ten years."""
    with click.progressbar(length=count, label="Creating demo submissions", show_pos=True) as bar:
        insert(get_store(), count, seed=seed, progress=bar.update)
    click.echo(f"Created {count} demo submissions in {current_app.config['DATABASE_URL'].split('://')[0]}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_data_command)
