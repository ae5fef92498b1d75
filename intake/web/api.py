"""Machine-readable endpoints: the questionnaire as FHIR, and a health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .. import fhir, questionnaire_ext
from ..db import get_store

bp = Blueprint("api", __name__)


@bp.get("/api/questionnaire")
def questionnaire():
    response = jsonify(fhir.questionnaire(questionnaire_ext.get(), current_app.config["FHIR_BASE_URL"]))
    response.mimetype = "application/fhir+json"
    return response


@bp.get("/healthz")
def healthz():
    try:
        get_store().ping()
    except Exception:  # noqa: BLE001 - any failure means unhealthy; details go to the log
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
