"""A realistic patient, as the form fields she posts page by page and the answers that must be stored."""

from __future__ import annotations

import datetime as dt

TODAY = dt.date.today()
VISIT = TODAY + dt.timedelta(days=7)
RETINOID = TODAY - dt.timedelta(days=10)
TOX_1 = TODAY - dt.timedelta(days=120)
TOX_2 = TODAY - dt.timedelta(days=300)

PAGES = {
    "about-you": {
        "first_name": "Maria", "last_name": "López", "preferred_name": "Mari",
        "date_of_birth": "1986-04-12", "sex_at_birth": "female",
        "phone": "+1 555 201 3344", "email": "maria.lopez@example.com", "preferred_contact": "text",
        "emergency_contact_name": "Jorge López", "emergency_contact_phone": "555 201 9988",
        "referral_source": "A friend or family member", "visit_date": VISIT.isoformat(),
        "visit_reason": "My Botox wears off fast and the lines around my eyes come back.",
    },
    "medical-history": {
        "conditions": ["none"],
        # Answered, then made irrelevant: cancer_treatment was not ticked, so this must be dropped.
        "cancer_treatment_area": "should be dropped",
        "skin_conditions": ["cold_sores"],
        "pregnancy": "none",
        "medications": ["nsaid_supplement", "topical_retinoid"],
        # Hidden too: isotretinoin was not ticked.
        "isotretinoin_last_dose": "2026-01-01",
        "retinoid_last_use": RETINOID.isoformat(),
        "other_medications": "Levothyroxine 50 mcg daily",
        "allergies": ["lidocaine"],
        "other_allergies": "Penicillin (rash)",
        "smoking": "never",
    },
    "neurotoxin": {
        "neurotoxin_ever": "yes",
        "neurotoxin-0-neurotoxin_product": "abobotulinumtoxinA",
        "neurotoxin-0-neurotoxin_date": TOX_1.isoformat(),
        "neurotoxin-0-neurotoxin_areas": ["crows_feet", "forehead"],
        "neurotoxin-0-neurotoxin_units": "50",
        "neurotoxin-0-neurotoxin_weeks_lasted": "6",
        "neurotoxin-0-neurotoxin_satisfaction": "2",
        "neurotoxin-0-neurotoxin_side_effects": ["bruising"],
        "neurotoxin-1-neurotoxin_product": "onabotulinumtoxinA",
        "neurotoxin-1-neurotoxin_date": TOX_2.isoformat(),
        "neurotoxin-1-neurotoxin_areas": ["glabella"],
        "neurotoxin-1-neurotoxin_onset_days": "5",
        "neurotoxin-1-neurotoxin_weeks_lasted": "12",
        "neurotoxin-1-neurotoxin_side_effects": ["eyelid_droop"],
        "neurotoxin_full_result": "partly",
        "neurotoxin_shortfall": "Lines around my eyes were back after six weeks.",
    },
    "skin": {
        "concerns": ["fine_lines", "acne_scars"],
        "acne_scar_type": ["rolling"],
        # The face map posts one checkbox group per zone (concern_areas-<zone>).
        "concern_areas-crows_feet_r": ["lines_moving"], "concern_areas-crows_feet_l": ["lines_moving"],
        "concern_areas-cheek_l": ["texture", "volume"], "concern_areas-cheek_r": ["texture"],
        "concern_severity": "moderate",
        "fitz_eye_colour": "dark_brown", "fitz_hair_colour": "dark_brown", "fitz_skin_colour": "light_brown",
        "fitz_freckles": "none", "fitz_burn": "rarely_burns", "fitz_tan": "very_easily",
        "fitz_brown_hours": "often", "fitz_face_reaction": "normal",
        "fitz_last_exposure": "months_2_3", "fitz_face_exposure": "sometimes",
        "sun_exposure": "some", "tanning_beds": "never", "spf_use": "sometimes",
        "skincare_routine": ["retinoid", "vitamin_c"],
        "prior_procedures": ["peel"],
        "procedure_date_peel": "2025-05-01",
        "downtime": "days_1_2",
        "upcoming_event": "Sister's wedding in March",
        "goals": "Softer lines around the eyes and smoother cheeks.",
    },
    "consent": {
        "consent_accurate": "y", "consent_privacy": "y",
        "photo_consent_chart": "yes", "photo_consent_marketing": "no",
        "signature_name": "Maria López",
    },
}

EXPECTED = {
    "first_name": "Maria", "last_name": "López", "preferred_name": "Mari",
    "date_of_birth": "1986-04-12", "sex_at_birth": "female",
    "phone": "+1 555 201 3344", "email": "maria.lopez@example.com", "preferred_contact": "text",
    "emergency_contact_name": "Jorge López", "emergency_contact_phone": "555 201 9988",
    "referral_source": "friend", "visit_date": VISIT.isoformat(),
    "visit_reason": "My Botox wears off fast and the lines around my eyes come back.",
    "conditions": ["none"], "skin_conditions": ["cold_sores"], "pregnancy": "none",
    "medications": ["nsaid_supplement", "topical_retinoid"], "retinoid_last_use": RETINOID.isoformat(),
    "other_medications": "Levothyroxine 50 mcg daily", "allergies": ["lidocaine"],
    "other_allergies": "Penicillin (rash)", "smoking": "never",
    "neurotoxin_ever": True,
    "neurotoxin": [
        {"neurotoxin_product": "abobotulinumtoxinA", "neurotoxin_date": TOX_1.isoformat(),
         "neurotoxin_areas": ["forehead", "crows_feet"], "neurotoxin_units": 50, "neurotoxin_weeks_lasted": 6,
         "neurotoxin_satisfaction": "2", "neurotoxin_side_effects": ["bruising"]},
        {"neurotoxin_product": "onabotulinumtoxinA", "neurotoxin_date": TOX_2.isoformat(),
         "neurotoxin_areas": ["glabella"], "neurotoxin_onset_days": 5, "neurotoxin_weeks_lasted": 12,
         "neurotoxin_side_effects": ["eyelid_droop"]},
    ],
    "neurotoxin_full_result": "partly",
    "neurotoxin_shortfall": "Lines around my eyes were back after six weeks.",
    "concerns": ["fine_lines", "acne_scars"], "acne_scar_type": ["rolling"],
    "concern_areas": {"crows_feet_r": ["lines_moving"], "crows_feet_l": ["lines_moving"],
                      "cheek_r": ["texture"], "cheek_l": ["volume", "texture"]},
    "concern_severity": "moderate",
    "fitz_eye_colour": "dark_brown", "fitz_hair_colour": "dark_brown", "fitz_skin_colour": "light_brown",
    "fitz_freckles": "none", "fitz_burn": "rarely_burns", "fitz_tan": "very_easily",
    "fitz_brown_hours": "often", "fitz_face_reaction": "normal",
    "fitz_last_exposure": "months_2_3", "fitz_face_exposure": "sometimes",
    "sun_exposure": "some", "tanning_beds": "never", "spf_use": "sometimes",
    "skincare_routine": ["retinoid", "vitamin_c"], "prior_procedures": ["peel"],
    "procedure_date_peel": "2025-05-01", "downtime": "days_1_2",
    "upcoming_event": "Sister's wedding in March",
    "goals": "Softer lines around the eyes and smoother cheeks.",
    "consent_accurate": True, "consent_privacy": True,
    "photo_consent_chart": True, "photo_consent_marketing": False,
    "signature_name": "Maria López",
}

SECTIONS = ["about-you", "medical-history", "neurotoxin", "skin"]


def walk_to_consent(patient) -> None:
    """Start and fill every page up to the consent page, checking each Next goes forward."""
    patient.start()
    for section_id in SECTIONS:
        response = patient.post(section_id, PAGES[section_id])
        assert response.status_code == 302, f"{section_id} did not validate"
    skip_photos(patient)
    assert patient.client.get("/intake/review").status_code == 200


def skip_photos(patient) -> None:
    """The optional photos page (issue 13), after the skin section: Next without adding any."""
    from tests.conftest import hidden_fields

    page = patient.client.get("/intake/photos")
    response = patient.client.post("/intake/photos", data={**hidden_fields(page.text), "action": "next"})
    assert response.status_code == 302 and response.location.endswith("/intake/review")
