"""Render the physician's PDF summary: once per submission, cached, never blocking the patient.

- One parsed stylesheet and one FontConfiguration serve every render.
- WeasyPrint fetches through AssetsOnlyFetcher: the package's own assets and
  the patient's drawn signature (handed over in memory), nothing else.
- PDFs are cached in <instance>/pdf/, keyed by the sha256 of what went into them, each file
  sealed with the data key (intake/crypto/files.py) and written 0600.
- schedule() renders in an in-process pool after the submission is committed;
  a failure is logged without patient data and retried on the next request.
"""

from __future__ import annotations

import hashlib
import logging
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import click
import weasyprint
from flask import Flask, current_app, render_template
from flask.cli import with_appcontext
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import answers as answers_mod
from . import questionnaire_ext, screening, summary
from .crypto import files as sealed
from .db import get_store
from .store import pdfs, submissions

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent / "pdf_assets"
TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "pdf" / "summary.html"
SIGNATURE_URL = "intake-signature:drawn.png"
LANGUAGE_NAMES = {"en": "English", "es": "Spanish (español)"}
PAGE_SIZES = ("Letter", "A4")


class AssetsOnlyFetcher(URLFetcher):
    """Deny every URL except files inside intake/pdf_assets and the in-memory signature."""

    def __init__(self, signature: bytes | None = None) -> None:
        super().__init__(allowed_protocols=("file", "intake-signature"), allow_redirects=False)
        self.signature = signature
        self.denied = 0

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url == SIGNATURE_URL and self.signature:
            return URLFetcherResponse(url, self.signature, {"Content-Type": "image/png"})
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = Path(url2pathname(parts.path)).resolve()
            if path.is_relative_to(ASSETS) and path.is_file():
                return URLFetcherResponse(url, path.read_bytes())
        self.denied += 1
        raise ValueError("blocked: the PDF may only use Intake's own assets")


def _fingerprint(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


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
        self.template_version = _fingerprint(TEMPLATE, ASSETS / "summary.css")

    def write(self, html: str, signature: bytes | None = None) -> bytes:
        document = weasyprint.HTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=AssetsOnlyFetcher(signature))
        options = {"pdf_variant": self.pdf_variant} if self.pdf_variant else {}
        return document.write_pdf(stylesheets=[self.css], font_config=self.font_config, **options)


def renderer() -> Renderer:
    app = current_app._get_current_object()
    if "intake.pdf" not in app.extensions:
        app.extensions["intake.pdf"] = Renderer(app.config["PDF_PAGE_SIZE"], app.config.get("PDF_VARIANT"))
    return app.extensions["intake.pdf"]


def current_flags(submission: Any) -> tuple[list[dict], str]:
    """Screen again with today's rules (flags are recomputed on every render)."""
    flags = screening.flag_dicts(submission.answers, submission.submitted_at.date(),
                                 current_app.config.get("SCREENING_WINDOWS"))
    return flags, screening.RULES_VERSION


def summary_html(submission: Any, data: dict) -> str:
    """The summary page as HTML, through Flask's autoescaping Jinja."""
    return render_template(
        "pdf/summary.html", s=data, clinic=current_app.config["CLINIC_NAME"],
        language_name=LANGUAGE_NAMES.get(submission.language, submission.language),
        signature_url=SIGNATURE_URL, answer_sections=summary.entries(data["sections"]),
    )


def render_summary(submission: Any) -> bytes:
    """Render the physician's PDF for a submission (needs an app context)."""
    flags, version = current_flags(submission)
    if flags != submission.flags or version != submission.rules_version:
        submissions.update_flags(get_store(), submission.id, flags, version)
        submission.flags, submission.rules_version = flags, version
    data = summary.build(submission, questionnaire_ext.get(), flags=flags)
    return renderer().write(summary_html(submission, data), data["signature"]["drawing"])


def cache_key(submission: Any) -> str:
    """What went into the PDF: answers, rules, template, WeasyPrint, and the clinic's settings."""
    config = current_app.config
    parts = (answers_mod.canonical_json(submission.answers), screening.RULES_VERSION, renderer().template_version,
             weasyprint.__version__, config["CLINIC_NAME"], config["PDF_PAGE_SIZE"],
             repr(sorted((config.get("SCREENING_WINDOWS") or {}).items())), submission.language)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def cache_folder() -> Path:
    return Path(current_app.instance_path) / "pdf"


def cached_files(submission_id: str) -> list[Path]:
    """Every cached (sealed) PDF of a submission, whatever its cache key."""
    return sorted(cache_folder().glob(f"{submission_id}-*.pdf.enc"))


def ensure_pdf(submission: Any) -> bytes:
    """Return the PDF, from the sealed cache or rendered and cached first. Raises if rendering fails."""
    key = cache_key(submission)
    path = cache_folder() / f"{submission.id}-{key[:20]}.pdf.enc"
    keyring = current_app.extensions["intake.keyring"]
    if path.exists():
        return sealed.read_sealed(path, keyring, "pdf")
    try:
        data = render_summary(submission)
    except Exception as exc:
        # The submission is untouched; the next request tries again.
        log.error("PDF render failed for submission %s: %s\n%s", submission.id, type(exc).__name__,
                  "".join(traceback.format_tb(exc.__traceback__)))
        pdfs.record(get_store(), submission.id, key, error=type(exc).__name__)
        raise
    sealed.private_dir(path.parent)
    # Written to a unique temporary name, then renamed: the pool and a staff request may render it at once.
    sealed.write_sealed(path, data, keyring, "pdf")
    pdfs.record(get_store(), submission.id, key, path=str(path))
    return data


def _render_in_background(app: Flask, submission_id: str) -> None:
    with app.app_context():
        submission = submissions.get(get_store(), submission_id)
        if submission is None:
            return
        try:
            ensure_pdf(submission)
        except Exception:  # noqa: BLE001 - logged in ensure_pdf; staff get a retry on the next request
            return


def schedule(submission_id: str) -> Future | None:
    """Render in the background pool (or inline when PDF_RENDER_INLINE is set, as in tests)."""
    app = current_app._get_current_object()
    if app.config.get("PDF_RENDER_INLINE"):
        _render_in_background(app, submission_id)
        return None
    pool = app.extensions.setdefault("intake.pdf_pool", ThreadPoolExecutor(max_workers=2, thread_name_prefix="pdf"))
    future = pool.submit(_render_in_background, app, submission_id)
    pending = app.extensions.setdefault("intake.pdf_futures", set())
    pending.add(future)
    future.add_done_callback(pending.discard)  # a long-running server keeps no finished futures
    return future


def wait_for_renders(app: Flask, timeout: float = 60) -> None:
    """Block until every scheduled render finished (for tests and the CLI)."""
    for future in list(app.extensions.get("intake.pdf_futures", ())):
        future.result(timeout=timeout)


def fast_subsetting() -> bool:
    """Whether WeasyPrint found libharfbuzz-subset (fast font subsetting) rather than fontTools."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))


@click.command("render-pdf")
@with_appcontext
@click.argument("submission_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="also write a readable copy here (mode 0600, not encrypted: delete it when done)")
def render_pdf_command(submission_id: str, output: Path | None) -> None:
    """Render one submission's PDF into the encrypted cache (output/pdf/); -o writes a readable copy."""
    from . import audit

    store = get_store()
    submission = submissions.get(store, submission_id) or submissions.get_by_reference(store, submission_id)
    if submission is None:
        raise click.ClickException(f"No submission with id or reference {submission_id!r}.")
    data = ensure_pdf(submission)
    if output is None:
        click.echo(f"Rendered and cached, encrypted: {cached_files(submission.id)[-1]}. "
                   "Use -o FILE for a readable copy.")
        return
    sealed.write_private(output, data)
    audit.record("pdf_downloaded", submission_id=submission.id, detail={"via": "cli"})
    click.echo(str(output))


def init_app(app: Flask) -> None:
    app.config.setdefault("PDF_RENDER_INLINE", False)
    app.cli.add_command(render_pdf_command)
    if not fast_subsetting():
        log.warning("!!! WeasyPrint is NOT using libharfbuzz-subset: PDFs will render several times slower. "
                    "Install the Debian package libharfbuzz-subset0 (make run does this). !!!")
