"""The patient's optional photos (issue 13): decoded and checked with Pillow, then re-encoded.

- Only JPEG, PNG and HEIC/HEIF (pillow-heif) decoders are tried; anything else is refused.
- The pixel count is read from the header and checked before any pixel is decoded: a decompression
  bomb is refused without being expanded (Pillow's own bomb check is an error here too).
- Every photo is turned upright first (its EXIF orientation), then re-encoded as a fresh JPEG of at most
  PHOTO_MAX_DIMENSION pixels a side. Nothing of the original file is kept: no EXIF (so no GPS), no
  XMP, no comments, no ICC profile, no thumbnail.
- Refusals are PhotoError with a sentence for people (translated by the caller's gettext).
"""

from __future__ import annotations

import base64
import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps

try:  # HEIC/HEIF, what iPhones send
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF = True
except ImportError:  # pragma: no cover - pillow-heif is a dependency; without it HEIC is refused like any other file
    HEIF = False

DEFAULTS: dict[str, Any] = {
    "PHOTO_MAX_COUNT": 3,  # photos per form
    "PHOTO_MAX_BYTES": 10 * 1024 * 1024,  # one uploaded file
    "PHOTO_MAX_PIXELS": 50_000_000,  # width x height read from the header (a 48 MP iPhone photo passes)
    "PHOTO_MAX_DIMENSION": 2000,  # the stored photo's longest side
    "PHOTO_JPEG_QUALITY": 85,
    "PHOTO_CAPTION_MAX": 120,
}
FORMATS = ("JPEG", "PNG", "HEIF") if HEIF else ("JPEG", "PNG")
CONTENT_TYPE = "image/jpeg"
# FHIR: the photos are the attachment item "patient-photos" at the end of the skin section's group.
FHIR_LINK_ID = "patient-photos"
FHIR_SECTION = "skin"
FHIR_TEXT = "Photos of what concerns the patient"
THUMB_SIZE = 480
PDF_SIZE = 1100

# A process-wide backstop; our own check below runs first and is stricter.
Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, DEFAULTS["PHOTO_MAX_PIXELS"])


def _l(text: str) -> str:
    """Marks a message for translation (pybabel extracts _l); the web page translates it when shown."""
    return text


class PhotoError(ValueError):
    """A file that is not a photo we accept; str() is a sentence for people (English msgid)."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


@dataclass(frozen=True)
class Processed:
    data: bytes
    width: int
    height: int
    sha256: str
    content_type: str = CONTENT_TYPE

    @property
    def size(self) -> int:
        return len(self.data)


def megabytes(size: int) -> str:
    """A size limit for people: whole megabytes, or tenths when under 10 MB ("0.5", "10")."""
    tenths = -(-size * 10 // (1024 * 1024))
    return str(tenths // 10) if tenths % 10 == 0 else f"{tenths / 10:.1f}"


def limit(config: Any, name: str) -> int:
    return int(config.get(name, DEFAULTS[name]))


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no transparency, and CMYK or 16-bit modes are converted."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, "white")
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB") if image.mode != "RGB" else image


def encode_jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    # No exif=, no icc_profile=, no comment: a fresh file that carries pixels only.
    image.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def process(raw: bytes, config: Any) -> Processed:
    """Check one uploaded file and return it re-encoded; PhotoError says why not."""
    max_bytes = limit(config, "PHOTO_MAX_BYTES")
    if not raw:
        raise PhotoError(_l("The file is empty. Please choose a photo."))
    if len(raw) > max_bytes:
        raise PhotoError(_l("This file is larger than %(mb)s MB. Please choose a smaller photo."), mb=megabytes(max_bytes))
    max_pixels, side = limit(config, "PHOTO_MAX_PIXELS"), limit(config, "PHOTO_MAX_DIMENSION")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=FORMATS)
            width, height = image.size
            if width * height > max_pixels or width < 1 or height < 1:
                raise PhotoError(_l("This picture is too large (%(mp)s megapixels). Please send a smaller photo."),
                                 mp=round(width * height / 1_000_000))
            if image.format == "JPEG":
                image.draft("RGB", (side, side))  # decode JPEGs at a reduced scale when they are far bigger
            image.load()
            image = ImageOps.exif_transpose(image)  # upright first, from the EXIF orientation
            image = _flatten(image)
            image.thumbnail((side, side), Image.Resampling.LANCZOS)
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(_l("This picture is too large to open safely. Please send a smaller photo.")) from None
    except Exception:  # noqa: BLE001 - any decoder failure means "not a photo we can read"
        raise PhotoError(_l("This file could not be read as a photo. Please choose a JPEG, PNG or HEIC picture.")) from None
    data = encode_jpeg(image, limit(config, "PHOTO_JPEG_QUALITY"))
    return Processed(data=data, width=image.width, height=image.height, sha256=hashlib.sha256(data).hexdigest())


def resized(data: bytes, side: int, quality: int = 80) -> bytes:
    """A smaller JPEG of a stored photo (thumbnails, the PDF); stored photos are already clean JPEGs."""
    image = Image.open(io.BytesIO(data), formats=("JPEG",))
    if max(image.size) <= side:
        return data
    image.draft("RGB", (side, side))
    image = image.convert("RGB")
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return encode_jpeg(image, quality)


def clean_caption(text: str | None, config: Any) -> str:
    """One line of text, trimmed; the caller refuses it when it is longer than PHOTO_CAPTION_MAX."""
    return " ".join((text or "").split())


def fhir_attachment(photo: Any) -> dict[str, Any]:
    """A stored photo as a FHIR R4 Attachment: the data inline (as the signature is), hash = base64 SHA-1 (FHIR's rule)."""
    return {
        "contentType": photo.content_type,
        "data": base64.b64encode(photo.data).decode("ascii"),
        "size": len(photo.data),
        "hash": base64.b64encode(hashlib.sha1(photo.data).digest()).decode("ascii"),  # noqa: S324 - FHIR says SHA-1
        **({"title": photo.caption} if photo.caption else {}),
        "creation": photo.created_at.isoformat(timespec="seconds"),
    }
