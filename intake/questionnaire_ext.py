"""Load the questionnaire once per app and make it available to views."""

from __future__ import annotations

from flask import Flask, current_app

from . import fhir, forms, questionnaire, screening, zonemap
from .questionnaire import Questionnaire


def init_app(app: Flask) -> None:
    """Load and validate the definition; a bad one stops start-up with a named error."""
    loaded = questionnaire.load(app.config.get("QUESTIONNAIRE_PATH") or questionnaire.DEFAULT_PATH)
    forms.check_buildable(loaded)
    zonemap.check(loaded)
    zonemap.init_app(app)
    screening.check_windows(app.config.get("SCREENING_WINDOWS"))
    fhir.check_base_url(app.config["FHIR_BASE_URL"])
    app.extensions["intake.questionnaire"] = loaded


def get() -> Questionnaire:
    return current_app.extensions["intake.questionnaire"]
