"""Demo patients: who they are and what they answer.

Answers are generated from the questionnaire definition (every question, its
choices and bounds), with plausible free text and a realistic share of "none"
answers, then pruned exactly as a real submission is.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

from .. import answers as answers_mod
from .. import screening
from ..questionnaire import Question, Questionnaire

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
        "Abramowicz Achterberg Bergström D'Angelo Fitzgerald Håkansson MacDonald Papadopoulos Vandenberg").split()
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
NONE_SHARE = 0.9


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> str:
    return (start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))).isoformat()


def _value(rng: random.Random, q: Question, today: dt.date, who: dict) -> object:
    if q.link_id in who:
        return who[q.link_id]
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
        case "zone-map":  # a few zones, one or two concerns each
            zones = rng.sample([z.code for z in q.zones], rng.randint(1, 3))
            return {z: sorted(rng.sample(q.codes, rng.randint(1, 2)), key=q.codes.index)
                    for z in sorted(zones, key=[x.code for x in q.zones].index)}
        case "group":
            return [{i.link_id: v for i in q.items if (v := _value(rng, i, today, {})) is not None}
                    for _ in range(rng.randint(1, 3))]
    return None


def person(rng: random.Random) -> dict:
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
        who = person(rng) | {
            "sex_at_birth": rng.choices(["female", "male", "intersex", "undisclosed"], [85, 12, 1, 2])[0],
            "preferred_name": None, "signature_drawing": None, "neurotoxin_ever": rng.random() < 0.6,
        }
        answers = {q_.link_id: v for q_ in q.questions() if (v := _value(rng, q_, today, who)) is not None}
        yield answers_mod.prune(q, answers)
