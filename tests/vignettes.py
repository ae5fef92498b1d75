"""Clinical vignettes: complete, valid answer sets, and the exact flags each must raise."""

from __future__ import annotations

import datetime as dt

# The visit is today: the form refuses a visit in the past and a treatment date in the future.
VISIT = dt.date.today()

# Fitzpatrick answers (all ten items) scoring 14 of 40 (type III, 14-20) and 33 of 40 (type V, 28-34).
FAIR = {"fitz_eye_colour": "blue", "fitz_hair_colour": "chestnut_dark_blond", "fitz_skin_colour": "very_pale",
        "fitz_freckles": "several", "fitz_burn": "burns_sometimes", "fitz_tan": "light",
        "fitz_brown_hours": "seldom", "fitz_face_reaction": "sensitive",
        "fitz_last_exposure": "months_1_2", "fitz_face_exposure": "hardly_ever"}
DARK = {"fitz_eye_colour": "brownish_black", "fitz_hair_colour": "black", "fitz_skin_colour": "dark_brown",
        "fitz_freckles": "none", "fitz_burn": "rarely_burns", "fitz_tan": "very_easily",
        "fitz_brown_hours": "often", "fitz_face_reaction": "normal",
        "fitz_last_exposure": "under_1_month", "fitz_face_exposure": "often"}
# The same two patients as questionnaire 2026.11.1 asked them: eight items (11 of 32 and 27 of 32).
EIGHT_ITEMS = ("fitz_last_exposure", "fitz_face_exposure")


def days_before(n: int) -> str:
    return (VISIT - dt.timedelta(days=n)).isoformat()


def healthy(**changes) -> dict:
    """A healthy first-timer: every required answer given, nothing to flag."""
    answers = {
        "first_name": "Grace", "last_name": "Okafor", "date_of_birth": "1990-03-14", "sex_at_birth": "female",
        "phone": "555 201 4455", "email": "grace@example.com", "preferred_contact": "email",
        "emergency_contact_name": "Ben Okafor", "emergency_contact_phone": "555 201 9000",
        "visit_date": VISIT.isoformat(), "visit_reason": "Fine lines on my forehead.",
        "conditions": ["none"], "skin_conditions": ["none"], "pregnancy": "none", "medications": ["none"],
        "allergies": ["none"], "smoking": "never", "neurotoxin_ever": False,
        "concerns": ["fine_lines"], "concern_areas": {"forehead": ["lines_rest"]}, "concern_severity": "mild", **FAIR,
        "sun_exposure": "little", "tanning_beds": "never", "spf_use": "daily", "skincare_routine": ["none"],
        "prior_procedures": ["none"], "downtime": "days_1_2", "goals": "Smoother forehead.",
        "consent_accurate": True, "consent_privacy": True, "photo_consent_chart": True,
        "photo_consent_marketing": False, "signature_name": "Grace Okafor",
    }
    answers.update(changes)
    return answers


def born_years_before_visit(years: int, days: int = 0) -> str:
    """A date of birth: `years` whole years before the visit, then `days` days later (days=1: a day short)."""
    try:
        birthday = VISIT.replace(year=VISIT.year - years)
    except ValueError:  # a visit on 29 February: born on the 28th, the last day that makes them `years` old
        birthday = VISIT.replace(year=VISIT.year - years, day=28)
    return (birthday + dt.timedelta(days=days)).isoformat()


def toxin_row(days_ago: int, product: str = "onabotulinumtoxinA", **extra) -> dict:
    return {"neurotoxin_product": product, "neurotoxin_date": days_before(days_ago),
            "neurotoxin_areas": ["forehead"], "neurotoxin_side_effects": ["none"], **extra}


HTML_PAYLOADS = (
    '<img src="file:///etc/passwd">',
    '<link rel="attachment" href="file:///etc/hostname">',
    "<style>@import url(http://127.0.0.1:9/)</style>",
)
FREE_TEXT = ("first_name", "last_name", "preferred_name", "visit_reason", "other_medications", "other_allergies",
             "upcoming_event", "goals", "emergency_contact_name", "signature_name", "referral_source")


def html_everywhere() -> dict:
    """A patient who typed markup into every free-text box."""
    typed = {name: HTML_PAYLOADS[i % 3] for i, name in enumerate(FREE_TEXT)}
    return healthy(**typed)


# Names in every script the PDF must draw with real glyphs (the repro is the first four, in one name).
SCRIPT_NAMES = {
    "Latin with diacritics": "Zoë Ñúñez-Øberg",
    "Greek": "Αλέξανδρος Παπαδόπουλος",
    "Cyrillic": "Дмитрий Иванов",
    "Arabic": "محمد عبد الله",
    "Hebrew": "דוד כהן",
    "Devanagari": "अनन्या शर्मा",
    "Thai": "สมชาย ใจดี",
    "Chinese": "王小明",
    "Japanese": "山田 太郎 さくら サトウ",
    "Korean": "김민준",
    "Emoji": "🙂👍",
}


def multiscript() -> dict:
    """A patient whose name and free text use every script above: the repro name, then one field per script."""
    n = SCRIPT_NAMES
    return healthy(
        first_name="Zoë Ñúñez-Øberg", last_name="山田 太郎 محمد 🙂", preferred_name=n["Greek"],
        emergency_contact_name=n["Cyrillic"], signature_name="Zoë Ñúñez-Øberg 山田 太郎",
        other_medications=f"{n['Hebrew']}: {n['Arabic']}", other_allergies=n["Devanagari"],
        visit_reason=f"{n['Thai']} · {n['Korean']} · {n['Chinese']}", upcoming_event=n["Japanese"],
        goals=f"{n['Emoji']} {n['Latin with diacritics']}",
    )


VIGNETTES = {
    "pregnant": (healthy(pregnancy="pregnant"), {"pregnancy"}),
    "isotretinoin_and_keloid": (
        healthy(medications=["isotretinoin"], isotretinoin_last_dose=days_before(91), skin_conditions=["keloid"]),
        {"isotretinoin", "keloid"}),
    "recent_toxin_with_droop": (
        healthy(neurotoxin_ever=True, neurotoxin_full_result="no",
                neurotoxin=[toxin_row(10, neurotoxin_weeks_lasted=6, neurotoxin_side_effects=["eyelid_droop"])]),
        {"recent_neurotoxin", "toxin_before_needling", "prior_droop", "suboptimal_result"}),
    "skin_type_v_cold_sores": (healthy(**DARK, skin_conditions=["cold_sores"]), {"skin_type_pih", "herpes_simplex"}),
    "healthy_first_timer": (healthy(), set()),
    "fourteen_year_old": (healthy(date_of_birth=born_years_before_visit(14), visit_reason="My mum says I can have Botox."),
                          {"minor_neurotoxin", "minor_needling"}),
    "latex_and_recent_procedures": (
        healthy(allergies=["latex"], prior_procedures=["microneedling", "laser", "threads"],
                procedure_date_microneedling=days_before(21), procedure_date_laser=days_before(12),
                procedure_date_threads=days_before(60)),
        {"latex_allergy", "recent_microneedling", "recent_laser", "recent_thread_lift"}),
    "html_in_every_box": (html_everywhere(), set()),
}
