"""Issue 13, photos: the patient's upload page, what is stored, and who may see it."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from intake import pdf, renders
from intake.models import Photo
from intake.store import photos as photos_store
from tests.conftest import Patient, hidden_fields
from tests.photo_support import (
    GPS_IFD,
    ORIENTATION,
    add_submission_photo,
    heic,
    jpeg_with_gps,
    png,
    png_bomb,
    post_multipart,
    upload,
    walk_to_photos,
)
from tests.staff_support import actions, add_submission, as_role, users  # noqa: F401
from tests.test_pdf import pdf_text
from tests.walk import PAGES


def stored(app) -> list[Photo]:
    from sqlalchemy.orm import undefer

    with app.extensions["intake.store"].reading() as session:
        return list(session.scalars(select(Photo).options(undefer(Photo.data)).order_by(Photo.id)))


def decoded(photo: Photo) -> Image.Image:
    image = Image.open(io.BytesIO(photo.data))
    image.load()
    return image


def test_skin_leads_to_the_optional_photos_page_which_can_be_skipped(app, patient):
    walk_to_photos(patient)
    page = patient.client.get("/intake/photos")
    assert "Photos (optional)" in page.text and 'type="file"' in page.text and 'enctype="multipart/form-data"' in page.text
    response = patient.client.post("/intake/photos", data={**hidden_fields(page.text), "action": "next"})
    assert response.status_code == 302 and response.location.endswith("/intake/review")
    back = patient.client.post("/intake/photos", data={**hidden_fields(page.text), "action": "back"})
    assert back.location.endswith("/intake/skin")
    assert stored(app) == []


def test_a_jpeg_with_gps_is_stored_re_encoded_without_any_exif_and_upright(app, patient):
    walk_to_photos(patient)
    original = jpeg_with_gps(size=(400, 300), orientation=6)  # "rotate 90° clockwise to display"
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the upload really has a GPS position
    response = upload(patient.client, {"photo-1": (original, "IMG_0001.JPG")}, captions={"photo-1": "Scar on my chin"})
    assert response.status_code == 302 and response.location.endswith("/intake/photos")
    (photo,) = stored(app)
    image = decoded(photo)
    assert image.format == "JPEG" and photo.content_type == "image/jpeg"
    exif = image.getexif()
    assert len(exif) == 0 and not exif.get_ifd(GPS_IFD) and ORIENTATION not in exif
    assert "exif" not in image.info and b"PhoneModel" not in photo.data and b"Exif" not in photo.data
    assert image.size == (300, 400)  # the orientation was applied before the EXIF went
    assert image.getpixel((150, 5))[2] > 150  # the blue band, once on the left, is now along the top
    assert photo.caption == "Scar on my chin" and photo.data != original


def test_photos_are_encrypted_at_rest(app, patient):
    walk_to_photos(patient)
    upload(patient.client, {"photo-1": (png(), "a.png")}, captions={"photo-1": "Secret caption words"})
    with app.extensions["intake.store"].engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT caption, data, key_id FROM photos").one()
    assert b"Secret caption" not in bytes(raw[0]) and b"JFIF" not in bytes(raw[1]) and raw[2]


def test_heic_and_png_are_accepted_and_made_into_jpeg(app, patient):
    walk_to_photos(patient)
    response = upload(patient.client, {"photo-1": (heic(), "IMG_0002.HEIC"), "photo-2": (png(mode="RGBA"), "scan.png")})
    assert response.status_code == 302
    photos = stored(app)
    assert [decoded(p).format for p in photos] == ["JPEG", "JPEG"]
    assert [decoded(p).size for p in photos] == [(320, 240), (300, 200)]


def test_large_photos_are_scaled_down(app, patient):
    walk_to_photos(patient)
    big = jpeg_with_gps(size=(4032, 3024))
    upload(patient.client, {"photo-1": (big, "big.jpg")})
    assert decoded(stored(app)[0]).size == (2000, 1500)


def error_page(response, field: str) -> str:
    assert response.status_code == 422
    text = response.text
    assert 'id="error-summary"' in text and f'href="#{field}"' in text  # the summary links to the field
    message = re.search(rf'id="{field}-error">(.*?)</p>', text, re.S).group(1)
    assert f'aria-describedby="{field}-hint {field}-error"' in text
    return re.sub(r"<[^>]+>", "", message).strip()


def test_a_renamed_text_file_is_refused_with_a_message_next_to_the_field(app, patient):
    walk_to_photos(patient)
    response = upload(patient.client, {"photo-1": (b"name,dob\nMaria,1986-04-12\n", "holiday.jpg")}, action="next")
    assert "could not be read as a photo" in error_page(response, "photo-1")
    assert stored(app) == []


def test_a_decompression_bomb_is_refused_without_being_decoded(app, patient):
    walk_to_photos(patient)
    bomb = png_bomb()
    assert len(bomb) < 10_000
    response = upload(patient.client, {"photo-2": (bomb, "tiny.png")})
    assert "too large to open safely" in error_page(response, "photo-2")
    # Under Pillow's own threshold but over ours: refused by the header check, with the size in words.
    response = upload(patient.client, {"photo-1": (png_bomb(9000, 9000), "big.png")})
    assert "too large (81 megapixels)" in error_page(response, "photo-1")
    assert stored(app) == []


def test_one_bad_file_does_not_lose_the_good_one(app, patient):
    walk_to_photos(patient)
    response = upload(patient.client, {"photo-1": (jpeg_with_gps(), "ok.jpg"), "photo-2": (b"GIF89a nonsense", "x.gif")},
                      captions={"photo-2": "kept caption"})
    assert "could not be read" in error_page(response, "photo-2")
    assert len(stored(app)) == 1
    assert 'value="kept caption"' in response.text


def test_too_big_a_file_and_too_long_a_caption_are_refused(app, patient):
    app.config["PHOTO_MAX_BYTES"] = 50_000
    walk_to_photos(patient)
    response = upload(patient.client, {"photo-1": (jpeg_with_gps(size=(1600, 1200)) + b"\0" * 60_000, "big.jpg")})
    assert "larger than 0.1 MB" in error_page(response, "photo-1")  # said in megabytes, never "0 MB"
    app.config["PHOTO_MAX_BYTES"] = 10 * 1024 * 1024
    response = upload(patient.client, {"photo-1": (jpeg_with_gps() + b"\0" * (10 * 1024 * 1024), "big.jpg")})
    assert "larger than 10 MB" in error_page(response, "photo-1")
    response = upload(patient.client, {"photo-1": (png(), "a.png")}, captions={"photo-1": "x" * 121})
    assert "120 characters or fewer" in error_page(response, "photo-1")
    assert stored(app) == []


def test_no_more_than_three_photos(app, patient):
    walk_to_photos(patient)
    files = {f"photo-{n}": (png(), f"{n}.png") for n in (1, 2, 3)}
    assert upload(patient.client, files).status_code == 302
    page = patient.client.get("/intake/photos").text
    assert 'type="file"' not in page and "the most this form takes" in page
    # A crafted fourth upload is refused, and nothing is stored.
    response = upload(patient.client, {"photo-1": (png(), "4.png")})
    assert response.status_code == 422 and 'href="#photos-error"' in response.text
    assert "You can add up to 3 photos" in re.search(r'id="photos-error"[^>]*>(.*?)</p>', response.text, re.S).group(1)
    assert len(stored(app)) == 3


def test_the_patient_sees_and_removes_their_own_photos(app, patient):
    walk_to_photos(patient)
    upload(patient.client, {"photo-1": (png(), "a.png"), "photo-2": (heic(), "b.heic")}, captions={"photo-1": "Left <cheek>"})
    page = patient.client.get("/intake/photos").text
    first, second = (p.id for p in stored(app))
    assert f'src="/intake/photos/{first}.jpg"' in page and "Left &lt;cheek&gt;" in page and "<cheek>" not in page
    thumb = patient.client.get(f"/intake/photos/{first}.jpg")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg" and "no-store" in thumb.headers["Cache-Control"]
    assert Image.open(io.BytesIO(thumb.data)).format == "JPEG"
    response = patient.client.post("/intake/photos", data={**hidden_fields(page), "action": f"remove:{first}"})
    assert response.status_code == 302
    assert [p.id for p in stored(app)] == [second]
    assert patient.client.get(f"/intake/photos/{first}.jpg").status_code == 404


def test_another_patient_cannot_fetch_or_remove_a_draft_photo(app, patient):
    walk_to_photos(patient)
    upload(patient.client, {"photo-1": (png(), "a.png")})
    (photo,) = stored(app)
    other = Patient(app.test_client())
    other.start()
    assert other.client.get(f"/intake/photos/{photo.id}.jpg").status_code == 404
    page = other.client.get("/intake/photos").text
    assert f"/intake/photos/{photo.id}.jpg" not in page
    other.client.post("/intake/photos", data={**hidden_fields(page), "action": f"remove:{photo.id}"})
    assert len(stored(app)) == 1
    # No session at all: nothing either.
    assert app.test_client().get(f"/intake/photos/{photo.id}.jpg").status_code == 404


def test_not_you_on_a_shared_device_hides_the_previous_patients_photos(app, patient):
    walk_to_photos(patient)
    upload(patient.client, {"photo-1": (png(), "a.png")})
    (photo,) = stored(app)
    start = patient.client.get("/")
    patient.client.post("/intake/start-over", data=hidden_fields(start.text))
    assert patient.client.get(f"/intake/photos/{photo.id}.jpg").status_code == 404
    assert f"/intake/photos/{photo.id}.jpg" not in patient.client.get("/intake/photos").text


def test_photos_move_to_the_submission_at_submit(app, patient):
    walk_to_photos(patient)
    upload(patient.client, {"photo-1": (png(), "a.png")}, captions={"photo-1": "Chin"}, action="next")
    response = patient.post("consent", PAGES["consent"])
    assert response.status_code == 302 and response.location.endswith("/intake/thanks")
    (photo,) = stored(app)
    assert photo.draft_id is None and photo.submission_id is not None
    with app.app_context():
        assert [p.caption for p in photos_store.for_submission(app.extensions["intake.store"], photo.submission_id)] == ["Chin"]


# --- staff: the detail page, the photo URL, the audit, the PDF -------------------------------------------------------



def test_physicians_see_the_photos_on_the_detail_page_and_each_view_is_audited(app, as_role):  # noqa: F811 - the fixture imported above
    submission = add_submission(app)
    first = add_submission_photo(app, submission.id, caption="Scar <b>left</b> cheek")
    add_submission_photo(app, submission.id, caption="")
    client = as_role("physician")
    page = client.get(f"/staff/submissions/{submission.id}").text
    assert "Patient's photos (2)" in page and "Scar &lt;b&gt;left&lt;/b&gt; cheek" in page and "<b>left" not in page
    url = f"/staff/submissions/{submission.id}/photos/{first}.jpg"
    assert f'src="{url}"' in page
    before = actions(app).count("photo_viewed")
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "no-store"  # never kept by a browser or a proxy
    assert Image.open(io.BytesIO(response.data)).format == "JPEG"
    assert actions(app).count("photo_viewed") == before + 1


def test_front_desk_staff_cannot_fetch_a_photo_and_nothing_is_served(app, as_role):  # noqa: F811 - the fixture imported above
    submission = add_submission(app)
    photo_id = add_submission_photo(app, submission.id)
    client = as_role("staff")
    response = client.get(f"/staff/submissions/{submission.id}/photos/{photo_id}.jpg")
    assert response.status_code == 403 and response.mimetype == "text/html" and b"JFIF" not in response.data
    assert "photo_viewed" not in actions(app)
    # Signed out: sent to sign in. The patient side never serves a submitted photo either.
    anonymous = app.test_client()
    assert anonymous.get(f"/staff/submissions/{submission.id}/photos/{photo_id}.jpg").location.startswith("/staff/login")
    assert anonymous.get(f"/intake/photos/{photo_id}.jpg").status_code == 404


def test_a_photo_is_only_served_under_its_own_submission(app, as_role):  # noqa: F811 - the fixture imported above
    mine, other = add_submission(app), add_submission(app)
    photo_id = add_submission_photo(app, mine.id)
    assert as_role("admin").get(f"/staff/submissions/{other.id}/photos/{photo_id}.jpg").status_code == 404


def test_the_pdf_has_a_photo_page_with_escaped_captions_and_fetches_only_in_memory(app, monkeypatch):
    requested = []
    original = pdf.AssetsOnlyFetcher.fetch
    monkeypatch.setattr(pdf.AssetsOnlyFetcher, "fetch", lambda self, url, headers=None: requested.append(url)
                        or original(self, url, headers))
    submission = add_submission(app)
    add_submission_photo(app, submission.id, caption="Acne scars <img src=http://127.0.0.1:9/x>")
    add_submission_photo(app, submission.id, caption="How it looked after the last peel", content=png())
    with app.app_context():
        data = renders.ensure_pdf(submission)
    text, reader = pdf_text(data)
    assert "PATIENT'S PHOTOS" in text  # the page title (upper case by CSS)
    assert "Photo 1: Acne scars <img src=http://127.0.0.1:9/x>" in text
    assert "Photo 2: How it looked after the last peel" in text
    photo_page = next(page for page in reader.pages if "PATIENT'S PHOTOS" in page.extract_text())
    assert len(photo_page.images) == 2
    assert sorted(u for u in requested if not u.startswith("file:")) == ["intake-photo:1.jpg", "intake-photo:2.jpg"]


def test_the_fetcher_serves_a_photo_only_when_handed_it():
    import pytest

    fetcher = pdf.AssetsOnlyFetcher(photos={"intake-photo:1.jpg": b"\xff\xd8jpeg"})
    assert fetcher.fetch("intake-photo:1.jpg").read() == b"\xff\xd8jpeg"
    for url in ("intake-photo:2.jpg", "intake-photo:../1.jpg"):
        with pytest.raises(ValueError, match="blocked"):
            fetcher.fetch(url)


def test_a_pdf_without_photos_has_no_photo_page(app):
    submission = add_submission(app)
    with app.app_context():
        text, _ = pdf_text(renders.ensure_pdf(submission))
    assert "PATIENT'S PHOTOS" not in text


# --- exports, erasure, purge, key rotation, request size ---------------------------------------------------------------

def test_fhir_carries_each_photo_as_a_value_attachment_with_content_type_and_sha1_hash(app, as_role):  # noqa: F811
    import base64
    import hashlib

    from fhir.resources.R4B.bundle import Bundle

    with_photos, without = add_submission(app), add_submission(app)
    add_submission_photo(app, with_photos.id, caption="Scar on my chin")
    add_submission_photo(app, with_photos.id, caption="", content=png())
    response = as_role("physician").get("/staff/export?format=fhir")
    raw = next(e["resource"] for e in json.loads(response.data)["entry"] if e["resource"]["id"] == with_photos.id)
    raw_items = [i for s in raw["item"] for i in s["item"] if i["linkId"] == "patient-photos"]
    assert base64.b64decode(raw_items[0]["answer"][0]["valueAttachment"]["hash"]) == hashlib.sha1(
        base64.b64decode(raw_items[0]["answer"][0]["valueAttachment"]["data"])).digest()
    bundle = Bundle.model_validate_json(response.data)  # still a valid R4 bundle
    resources = {entry.resource.id: entry.resource for entry in bundle.entry}
    skin = next(s for s in resources[with_photos.id].item if s.linkId == "section-skin")
    (item,) = [i for i in skin.item if i.linkId == "patient-photos"]
    first, second = (answer.valueAttachment for answer in item.answer)
    with app.app_context():
        stored_photos = photos_store.for_submission(app.extensions["intake.store"], with_photos.id, with_data=True)
    for attachment, photo in zip((first, second), stored_photos, strict=True):
        data = attachment.data  # fhir.resources has decoded the base64 already
        assert data == photo.data and attachment.contentType == "image/jpeg" and attachment.size == len(data)
        assert attachment.hash == hashlib.sha1(data).digest()
        assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD) == {}
    assert first.title == "Scar on my chin" and second.title is None
    other = [i.linkId for s in resources[without.id].item for i in s.item]
    assert "patient-photos" not in other
    # The Questionnaire declares the item the responses use.
    items = [i for s in app.test_client().get("/api/questionnaire").json["item"] for i in s["item"]]
    assert {"linkId": "patient-photos", "text": "Photos of what concerns the patient", "type": "attachment",
            "repeats": True} in items


def test_the_zip_of_pdfs_has_the_photos_on_each_pdfs_photo_page(app, as_role):  # noqa: F811
    import zipfile

    submission = add_submission(app)
    add_submission_photo(app, submission.id, caption="Rolling scars on the cheek")
    client = as_role("physician")
    response = client.get("/staff/export?format=pdf-zip")
    assert response.status_code == 302  # a ZIP is always a job (run at once here)
    response = client.get(response.location + "/download")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    (name,) = [n for n in archive.namelist() if n.endswith(".pdf")]
    text, reader = pdf_text(archive.read(name))
    assert "PATIENT'S PHOTOS" in text and "Photo 1: Rolling scars on the cheek" in text
    assert sum(len(page.images) for page in reader.pages) >= 1


def test_erasing_a_submission_erases_its_photos(app, as_role):  # noqa: F811
    from intake.retention import erasure

    submission, kept = add_submission(app), add_submission(app)
    add_submission_photo(app, submission.id)
    add_submission_photo(app, kept.id)
    with app.app_context():
        _erased, removed = erasure.erase(app, app.extensions["intake.store"], submission.id, "duplicate")
    assert removed["photos"] == 1
    assert [p.submission_id for p in stored(app)] == [kept.id]


def test_expired_drafts_take_their_photos_with_them(app, patient):
    import datetime as dt

    from sqlalchemy import update

    from intake import retention
    from intake.models import Draft, utcnow

    walk_to_photos(patient)
    upload(patient.client, {"photo-1": (png(), "a.png")})
    store = app.extensions["intake.store"]
    with store.writing() as session:
        session.execute(update(Draft).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert retention.run_periodic(app)["drafts"] == 1
    assert stored(app) == []


def test_key_rotation_reseals_photos_and_they_still_read(app):
    from intake.crypto import rotation

    submission = add_submission(app)
    add_submission_photo(app, submission.id, caption="Before rotation")
    before = [(p.caption, p.data) for p in stored(app)]
    keyring = app.extensions["intake.keyring"]
    old = keyring.active_id
    new = keyring.add_key()
    keyring.refresh(force=True)
    store = app.extensions["intake.store"]
    with app.app_context():
        assert rotation.pending(store, keyring, Path(app.instance_path)).rows["photos"] == 1
        done = rotation.reseal(store, keyring, Path(app.instance_path))
    assert done.rows["photos"] == 1 and new != old
    with store.engine.connect() as conn:
        caption, data, key_id = conn.exec_driver_sql("SELECT caption, data, key_id FROM photos").one()
    assert key_id == new and bytes(data)[5:5 + len(new)].decode() == new and bytes(caption)[5:5 + len(new)].decode() == new
    assert [(p.caption, p.data) for p in stored(app)] == before


def test_only_the_photo_page_accepts_a_big_request(app, patient):
    walk_to_photos(patient)
    big = b"x" * (2 * 1024 * 1024)  # four times MAX_CONTENT_LENGTH, far under the photo page's own limit
    page = patient.client.get("/intake/skin")
    response = patient.client.post("/intake/skin", data={**hidden_fields(page.text), "goals": big.decode()})
    assert response.status_code == 413 and "That was too much to send at once" in response.text
    start = patient.client.post("/intake/start", data={"csrf_token": "x", "filler": big.decode()})
    assert start.status_code == 413
    # The same size on the photo page is read, and its photo stored.
    response = upload(patient.client, {"photo-1": (jpeg_with_gps(size=(1200, 900)) + b"\0" * len(big), "big.jpg")})
    assert response.status_code == 302 and len(stored(app)) == 1
    # Past the photo page's own limit (3 files of 10 MB and a little): a page for people, not a 500.
    app.config["PHOTO_REQUEST_MAX_BYTES"] = 1024 * 1024
    response = upload(patient.client, {"photo-2": (b"\0" * (1024 * 1024 + 1), "huge.jpg")})
    assert response.status_code == 413 and "too large to send together" in response.text
    assert "add your photos one at a time" in response.text


def test_the_photo_page_and_its_messages_are_in_spanish(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-MX,es;q=0.9"
    patient = Patient(client)
    walk_to_photos(patient)
    page = client.get("/intake/photos").text
    assert "Fotos (opcional)" in page and "Elija una foto" in page and "Agregar y seguir en esta página" in page
    response = upload(client, {"photo-1": (b"not a picture", "foto.jpg")})
    assert "No pudimos leer este archivo como una foto" in error_page(response, "photo-1")


def test_the_review_page_shows_the_photos_and_a_way_back_to_them(app, patient):
    walk_to_photos(patient)
    assert "No photos added." in patient.client.get("/intake/review").text
    upload(patient.client, {"photo-1": (png(), "a.png")}, captions={"photo-1": "Melasma on the forehead"})
    review = patient.client.get("/intake/review").text
    (photo,) = stored(app)
    assert "Melasma on the forehead" in review and f'src="/intake/photos/{photo.id}.jpg"' in review
    assert 'href="/intake/photos?from=review"' in review
    page = patient.client.get("/intake/photos?from=review")
    response = patient.client.post("/intake/photos", data={**hidden_fields(page.text), "from": "review", "action": "next"})
    assert response.location.endswith("/intake/review")


def test_on_both_databases_photos_move_at_submit_and_go_with_erasure(any_app):
    from intake.retention import erasure

    patient = Patient(any_app.test_client())
    walk_to_photos(patient)
    upload(patient.client, {"photo-1": (jpeg_with_gps(), "a.jpg"), "photo-2": (heic(), "b.heic")},
           captions={"photo-1": "Chin"}, action="next")
    assert patient.post("consent", PAGES["consent"]).location.endswith("/intake/thanks")
    photos = stored(any_app)
    assert len(photos) == 2 and {p.draft_id for p in photos} == {None} and len({p.submission_id for p in photos}) == 1
    with any_app.app_context():
        _erased, removed = erasure.erase(any_app, any_app.extensions["intake.store"], photos[0].submission_id,
                                         "patient_request")
    assert removed["photos"] == 2 and stored(any_app) == []


def test_a_post_without_csrf_stores_no_photo(app, patient):
    walk_to_photos(patient)
    page = patient.client.get("/intake/photos")
    data = {"draft_token": hidden_fields(page.text)["draft_token"], "action": "upload",
            "photo-1": FileStorage(io.BytesIO(png()), filename="a.png")}
    response = post_multipart(patient.client, "/intake/photos", data)
    assert response.status_code == 302 and stored(app) == []  # "this page timed out": back to the page, nothing kept


def test_a_locked_draft_serves_no_thumbnail(app, patient, monkeypatch):
    from intake.web import draft_access

    walk_to_photos(patient)
    upload(patient.client, {"photo-1": (png(), "a.png")})
    (photo,) = stored(app)
    assert patient.client.get(f"/intake/photos/{photo.id}.jpg").status_code == 200
    later = draft_access.now() + 16 * 60  # past DRAFT_IDLE_MINUTES: the person may have walked away
    monkeypatch.setattr(draft_access, "now", lambda: later)
    assert patient.client.get(f"/intake/photos/{photo.id}.jpg").status_code == 404
    assert patient.client.get("/intake/photos").location == "/"  # asked who is there first


def test_the_erase_page_says_the_photos_go_too(app, as_role):  # noqa: F811
    submission = add_submission(app)
    add_submission_photo(app, submission.id)
    add_submission_photo(app, submission.id)
    assert "The patient's 2 photos." in as_role("admin").get(f"/staff/submissions/{submission.id}/erase").text
