"""The patient's photos page (issue 13): up to PHOTO_MAX_COUNT photos, each with a short caption; optional.

- A wizard page of its own ("photos"), after the skin section. Without JavaScript it is a plain form with
  file inputs; with JavaScript (static/js/photos.js) the same form shows previews and upload progress.
- The only endpoint with a large request limit (PHOTO_REQUEST_MAX_BYTES, set per request in input_guard).
- Thumbnails come from a route bound to the draft this browser may open now: another draft's photo,
  a locked draft or a forgotten one (kiosk reset, "Not you?") answers 404. Responses are no-store.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import photos as photo_mod
from .. import questionnaire_ext
from ..db import get_store
from ..store import drafts
from ..store import photos as photos_store
from . import draft_access, input_guard, patient_access

PAGE = "photos"
ENDPOINT = "patient.photos"
FIELDS = ("photo-1", "photo-2", "photo-3")


def request_limit(config) -> int:
    """The upload page's own request limit: every file at its largest, plus the form around them."""
    return int(config.get("PHOTO_REQUEST_MAX_BYTES") or
               photo_mod.limit(config, "PHOTO_MAX_COUNT") * photo_mod.limit(config, "PHOTO_MAX_BYTES") + 256 * 1024)


def _render(draft, token, *, errors=None, captions=None, status=200):
    from .patient import REVIEW, wizard

    q = questionnaire_ext.get()
    config = current_app.config
    stored = photos_store.for_draft(get_store(), draft.id)
    free = max(0, photo_mod.limit(config, "PHOTO_MAX_COUNT") - len(stored))
    errors = dict(errors or {})
    slots = FIELDS[:free]
    for name in [n for n in errors if n not in slots]:  # a field the page no longer shows (the form is full)
        errors["photos"] = errors.pop(name)
    summary = [(name, _("Photo %(n)s", n=len(stored) + index + 1), errors[name])
               for index, name in enumerate(slots) if name in errors]
    if "photos" in errors:
        summary.insert(0, ("photos-error", _("Photos"), errors["photos"]))
    return render_template(
        "patient/photos.html", q=q, draft=draft, token=token, ticket=draft_access.page_ticket(token),
        photos=stored, slots=slots, errors=errors, summary=summary, captions=captions or {},
        pages=wizard(q), page=PAGE, from_review=request.values.get("from") == REVIEW,
        caption_max=photo_mod.limit(config, "PHOTO_CAPTION_MAX"),
        max_mb=photo_mod.megabytes(photo_mod.limit(config, "PHOTO_MAX_BYTES")),
        max_bytes=photo_mod.limit(config, "PHOTO_MAX_BYTES"),
        max_count=photo_mod.limit(config, "PHOTO_MAX_COUNT"),
    ), status


def _message(error: photo_mod.PhotoError) -> str:
    return _(error.message, **error.params)


def _take_uploads(draft) -> tuple[dict[str, str], dict[str, str]]:
    """Check, re-encode and store every file on the form; return (errors by field, captions typed)."""
    config = current_app.config
    caption_max = photo_mod.limit(config, "PHOTO_CAPTION_MAX")
    errors: dict[str, str] = {}
    captions: dict[str, str] = {}
    for name in FIELDS:
        upload = request.files.get(name)
        caption = photo_mod.clean_caption(request.form.get(f"{name}-caption"), config)
        captions[name] = caption[:caption_max]
        if upload is None or not upload.filename:
            if caption:
                errors[name] = _("Choose a photo for this caption, or clear the caption.")
            continue
        if len(caption) > caption_max:
            errors[name] = _("Keep the caption to %(max)s characters or fewer.", max=caption_max)
            continue
        try:
            processed = photo_mod.process(upload.read(photo_mod.limit(config, "PHOTO_MAX_BYTES") + 1), config)
        except photo_mod.PhotoError as error:
            errors[name] = _message(error)
            continue
        added = photos_store.add(get_store(), draft.id, caption=caption, data=processed.data,
                                 content_type=processed.content_type, sha256=processed.sha256,
                                 width=processed.width, height=processed.height,
                                 max_count=photo_mod.limit(config, "PHOTO_MAX_COUNT"))
        if added is None:
            errors[name] = _("You can add up to %(n)s photos. Remove one to add another.",
                             n=photo_mod.limit(config, "PHOTO_MAX_COUNT"))
        else:
            captions[name] = ""
    return errors, captions


def photos():
    from .patient import REVIEW, _lost_draft, _neighbour, _page_url

    access = draft_access.resolve()
    token, draft = access.token, access.draft
    if access.stale:
        return patient_access.stale_page()
    if draft is None:
        return _lost_draft()
    if not access.open:
        return patient_access.locked()
    if request.method == "GET":
        return _render(draft, token)

    action = request.form.get("action", "next")
    q = questionnaire_ext.get()
    if action.startswith("remove:"):
        photo_id = action.removeprefix("remove:")
        if photo_id.isdigit():
            photos_store.remove(get_store(), draft.id, int(photo_id))
        return redirect(url_for(".photos", **({"from": REVIEW} if request.form.get("from") == REVIEW else {})))
    errors, captions = _take_uploads(draft) if action != "back" else ({}, {})
    if errors:
        drafts.save(get_store(), token, draft.answers, PAGE)
        return _render(draft, token, errors=errors, captions=captions, status=422)
    if action == "upload":
        return redirect(url_for(".photos", **({"from": REVIEW} if request.form.get("from") == REVIEW else {})))
    if action == "back":
        following = _neighbour(q, PAGE, -1)
    else:
        following = REVIEW if request.form.get("from") == REVIEW else _neighbour(q, PAGE, 1)
    drafts.save(get_store(), token, draft.answers, following or PAGE)
    return redirect(_page_url(following))


def thumbnail(photo_id: int):
    """One of this browser's own draft photos, small, never cached."""
    access = draft_access.resolve()
    if not access.open or access.draft is None:
        return _not_found()
    photo = photos_store.draft_photo(get_store(), access.draft.id, photo_id, with_data=True)
    if photo is None:
        return _not_found()
    response = current_app.response_class(photo_mod.resized(photo.data, photo_mod.THUMB_SIZE), mimetype="image/jpeg")
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Content-Disposition"] = "inline"
    return response


def _not_found():
    return current_app.response_class(_("Not found"), status=404, mimetype="text/plain")


def draft_photos(draft_id: int) -> list:
    """The review page's list of this draft's photos (no bytes: each thumbnail is its own draft-bound request)."""
    return photos_store.for_draft(get_store(), draft_id)


def register(bp: Blueprint) -> None:
    bp.add_app_template_global(draft_photos, "draft_photos")
    bp.add_url_rule("/intake/photos", "photos", photos, methods=["GET", "POST"])
    bp.add_url_rule("/intake/photos/<int:photo_id>.jpg", "photo_thumbnail", thumbnail)
    input_guard.allow_large_body(ENDPOINT, request_limit)
