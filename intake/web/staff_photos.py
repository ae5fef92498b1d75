"""Staff see a submission's photos (issue 13): the PDF's guard ("open": physicians and administrators, never the
front desk) and the PDF's audit (one "photo_viewed" row per photo served). Never cacheable, never public."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app

from .. import audit
from ..auth import requires
from ..db import get_store
from ..store import photos as photos_store

bp = Blueprint("photos", __name__)


@bp.get("/submissions/<uuid:submission_id>/photos/<int:photo_id>.jpg")
@requires("open")
def photo(submission_id: uuid.UUID, photo_id: int):
    found = photos_store.submission_photo(get_store(), str(submission_id), photo_id)
    if found is None:
        abort(404)
    audit.record("photo_viewed", submission_id=found.submission_id, detail={"photo": found.position + 1})
    response = current_app.response_class(found.data, mimetype=found.content_type)
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.app_template_global()
def submission_photos(submission_id: str) -> list:
    """The photos listed on the detail page (no bytes: each image is its own audited request)."""
    return photos_store.for_submission(get_store(), submission_id)
