"""Photo files for the photo tests, made here with Pillow and pillow-heif (no binary fixtures in the repo)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import Patient, hidden_fields
from tests.walk import PAGES, SECTIONS

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(size=(400, 300), orientation: int | None = None) -> bytes:
    """A JPEG whose EXIF holds a GPS position (and optionally an orientation), like a phone's."""
    image = Image.new("RGB", size, (200, 40, 40))
    image.paste((20, 20, 200), (0, 0, size[0] // 4, size[1]))  # a blue band on the left edge
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "PhoneModel X"
    if orientation:
        exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (40.0, 26.0, 46.0), 3: "W", 4: (79.0, 58.0, 56.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def png(size=(300, 200), mode="RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 120, 30, 128) if mode == "RGBA" else (10, 120, 30)).save(out, format="PNG")
    return out.getvalue()


def heic(size=(320, 240)) -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", size, (90, 60, 200)).save(out, format="HEIF", quality=70)
    return out.getvalue()


def png_bomb(width=40000, height=40000) -> bytes:
    """A tiny PNG (a few KB) that claims 1.6 gigapixels: a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * width
    body = b"".join(compressor.compress(row) for _ in range(50)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def walk_to_photos(patient: Patient) -> None:
    patient.start()
    for section_id in SECTIONS:
        response = patient.post(section_id, PAGES[section_id])
        assert response.status_code == 302, section_id
    assert response.location.endswith("/intake/photos")


def upload(client, files: dict, action: str = "upload", captions: dict | None = None, **extra):
    """POST the photos page with files {field: (bytes, filename)} and captions {field: text}."""
    page = client.get("/intake/photos")
    assert page.status_code == 200, page.text[:300]
    data = {**hidden_fields(page.text), "action": action, **extra}
    for name, (content, filename) in files.items():
        data[name] = FileStorage(io.BytesIO(content), filename=filename, content_type="application/octet-stream")
    for name, text in (captions or {}).items():
        data[f"{name}-caption"] = text
    return post_multipart(client, "/intake/photos", data)


def post_multipart(client, path: str, data: dict):
    """Encoded in memory (the test client would spool a big body to a temporary file it never closes)."""
    boundary, body = encode_multipart(data)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def add_submission_photo(app, submission_id: str, caption: str = "Scar on my chin", content: bytes | None = None) -> int:
    """Store a photo on a submission as the submit would have moved it there; return its id."""
    from intake import photos
    from intake.models import Photo, utcnow

    processed = photos.process(content or jpeg_with_gps(), app.config)
    with app.extensions["intake.store"].writing() as session:
        existing = session.query(Photo).filter(Photo.submission_id == submission_id).count()
        photo = Photo(submission_id=submission_id, position=existing, caption=caption, data=processed.data,
                      content_type=processed.content_type, size=processed.size, width=processed.width,
                      height=processed.height, sha256=processed.sha256, created_at=utcnow())
        session.add(photo)
        session.flush()
        return photo.id
