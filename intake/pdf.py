"""Render the physician's PDF summary (HTML to bytes); intake.renders decides when and where.

- One parsed stylesheet and one FontConfiguration serve every render.
- WeasyPrint fetches through AssetsOnlyFetcher: the package's own assets and
  the patient's drawn signature (handed over in memory), nothing else.
- A render past PDF_MAX_PAGES pages is stopped (PageLimitExceeded) before it is written.
- Only worker processes render (never two at once in one process: Pango/GLib are not
  thread-safe); see intake.renders, which stores the bytes in the database.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import weasyprint
from flask import Flask, current_app, render_template
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import answers as answers_mod
from . import photos as photo_mod
from . import questionnaire_ext, screening, summary
from .db import get_store
from .store import submissions

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent / "pdf_assets"
TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "pdf" / "summary.html"
SIGNATURE_URL = "intake-signature:drawn.png"
PHOTO_URL = "intake-photo:{}.jpg"  # the patient's photos (issue 13), handed over in memory like the signature
LANGUAGE_NAMES = {"en": "English", "es": "Spanish (español)"}
PAGE_SIZES = ("Letter", "A4")


class AssetsOnlyFetcher(URLFetcher):
    """Deny every URL except files inside intake/pdf_assets and the in-memory signature."""

    def __init__(self, signature: bytes | None = None, photos: dict[str, bytes] | None = None) -> None:
        super().__init__(allowed_protocols=("file", "intake-signature", "intake-photo"), allow_redirects=False)
        self.signature = signature
        self.photos = photos or {}
        self.denied = 0

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url == SIGNATURE_URL and self.signature:
            return URLFetcherResponse(url, self.signature, {"Content-Type": "image/png"})
        if url in self.photos:
            return URLFetcherResponse(url, self.photos[url], {"Content-Type": "image/jpeg"})
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = Path(url2pathname(parts.path)).resolve()
            if path.is_relative_to(ASSETS) and path.is_file():
                return URLFetcherResponse(url, path.read_bytes())
        self.denied += 1
        raise ValueError("blocked: the PDF may only use Intake's own assets")


class PageLimitExceeded(Exception):
    """The summary would run past PDF_MAX_PAGES pages: a runaway answer or template, never rendered."""


def _fingerprint(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def template_version() -> str:
    """The template and stylesheet as a short hash (no WeasyPrint needed: the web side uses it too)."""
    return _fingerprint(TEMPLATE, ASSETS / "summary.css")


class Renderer:
    """Holds what is expensive to build once: the parsed CSS and the font configuration."""

    def __init__(self, page_size: str = "Letter", pdf_variant: str | None = None) -> None:
        if page_size not in PAGE_SIZES:
            raise ValueError(f"PDF_PAGE_SIZE must be one of {PAGE_SIZES}, got {page_size!r}")
        self.font_config = FontConfiguration()
        css = (ASSETS / "summary.css").read_text(encoding="utf-8") + f"\n@page {{ size: {page_size}; }}\n"
        self.css = weasyprint.CSS(string=css, font_config=self.font_config, url_fetcher=AssetsOnlyFetcher(),
                                  base_url=ASSETS.as_uri() + "/")
        self.pdf_variant = pdf_variant
        self.template_version = template_version()
        self.max_pages: int | None = None

    def write(self, html: str, signature: bytes | None = None, photos: dict[str, bytes] | None = None) -> bytes:
        fetcher = AssetsOnlyFetcher(signature, photos)
        source = weasyprint.HTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=fetcher)
        options = {"stylesheets": [self.css], **({"pdf_variant": self.pdf_variant} if self.pdf_variant else {})}
        document = source.render(font_config=self.font_config, **options)
        if self.max_pages and len(document.pages) > self.max_pages:
            raise PageLimitExceeded(f"{len(document.pages)} pages")
        return document.write_pdf(**options)


def renderer() -> Renderer:
    app = current_app._get_current_object()
    if "intake.pdf" not in app.extensions:
        app.extensions["intake.pdf"] = Renderer(app.config["PDF_PAGE_SIZE"], app.config.get("PDF_VARIANT"))
    app.extensions["intake.pdf"].max_pages = app.config.get("PDF_MAX_PAGES")
    return app.extensions["intake.pdf"]


def current_flags(submission: Any) -> tuple[list[dict], str]:
    """Screen again with today's rules (flags are recomputed on every render)."""
    flags = screening.flag_dicts(submission.answers, submission.submitted_at.date(),
                                 current_app.config.get("SCREENING_WINDOWS"))
    return flags, screening.RULES_VERSION


def summary_html(submission: Any, data: dict, photos: list | None = None) -> str:
    """The summary page as HTML, through Flask's autoescaping Jinja."""
    return render_template(
        "pdf/summary.html", s=data, clinic=current_app.config["CLINIC_NAME"],
        language_name=LANGUAGE_NAMES.get(submission.language, submission.language),
        signature_url=SIGNATURE_URL, answer_sections=summary.entries(data["sections"]),
        photos=[{"url": PHOTO_URL.format(n), "caption": p.caption} for n, p in enumerate(photos or [], 1)],
    )


def submission_photos(submission: Any) -> list:
    """The submission's photos with their bytes (issue 13); none for a submission that was never stored."""
    from .store import photos as photos_store

    return photos_store.for_submission(get_store(), submission.id, with_data=True) if submission.id else []


def render_summary(submission: Any) -> bytes:
    """Render the physician's PDF for a submission (needs an app context)."""
    flags, version = current_flags(submission)
    if flags != submission.flags or version != submission.rules_version:
        submissions.update_flags(get_store(), submission.id, flags, version)
        submission.flags, submission.rules_version = flags, version
    data = summary.build(submission, questionnaire_ext.get(), flags=flags)
    photos = submission_photos(submission)
    # Small on the page: re-scaled once more, so three photos add a few hundred KB, not megabytes.
    images = {PHOTO_URL.format(n): photo_mod.resized(p.data, photo_mod.PDF_SIZE, 75) for n, p in enumerate(photos, 1)}
    extra = {"photos": images} if images else {}
    return renderer().write(summary_html(submission, data, photos), data["signature"]["drawing"], **extra)


def _settings() -> tuple[str, ...]:
    config = current_app.config
    return (screening.RULES_VERSION, template_version(), weasyprint.__version__, config["CLINIC_NAME"],
            config["PDF_PAGE_SIZE"], repr(sorted((config.get("SCREENING_WINDOWS") or {}).items())))


def cache_key(submission: Any) -> str:
    """What went into the PDF: answers, rules, template, WeasyPrint, and the clinic's settings."""
    rules, template, engine, clinic, page_size, windows = _settings()
    parts = (answers_mod.canonical_json(submission.answers), rules, template, engine, clinic, page_size, windows,
             submission.language)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def fingerprint() -> str:
    """The cache key's parts that are the same for every submission: a new one means every PDF is stale."""
    return hashlib.sha256("\x1f".join(_settings()).encode("utf-8")).hexdigest()


def fast_subsetting() -> bool:
    """Whether WeasyPrint found libharfbuzz-subset (fast font subsetting) rather than fontTools."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))


def init_app(app: Flask) -> None:
    app.config.setdefault("PDF_MAX_PAGES", 40)
    if not fast_subsetting():
        log.warning("!!! WeasyPrint is NOT using libharfbuzz-subset: PDFs will render several times slower. "
                    "Install the Debian package libharfbuzz-subset0 (make run does this). !!!")
