"""The clinic's privacy notice: Markdown the clinic may edit, rendered with raw HTML switched off.

The clinic's own text is output/privacy_notice.<language>.md (the instance folder); without it, the
default in intake/notices/ is used. {clinic_name} and {contact} are filled from the configuration
(CLINIC_NAME, and PRIVACY_CONTACT, else CLINIC_PHONE, else "our front desk").
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markupsafe import Markup

DEFAULTS = Path(__file__).resolve().parent / "notices"
NAME = "privacy_notice.{}.md"
MAX_BYTES = 200_000


def source(language: str) -> Path:
    """The file the notice comes from: the clinic's, in this language or the default one, else ours."""
    folder = Path(current_app.instance_path)
    fallback = current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    for candidate in (folder / NAME.format(language), folder / NAME.format(fallback),
                      DEFAULTS / NAME.format(language), DEFAULTS / NAME.format("en")):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("no privacy notice")


@lru_cache(maxsize=16)
def _render(path: str, mtime_ns: int, clinic: str, contact: str) -> str:
    text = Path(path).read_bytes()[:MAX_BYTES].decode("utf-8", "replace")
    text = text.replace("{clinic_name}", clinic).replace("{contact}", contact)
    # CommonMark with raw HTML off: a <script> or <img onerror> typed into the file shows as text.
    # markdown-it also refuses javascript:, vbscript: and data: links.
    return MarkdownIt("commonmark", {"html": False}).render(text)


def render(language: str) -> Markup:
    """The notice as safe HTML, re-read whenever the clinic saves the file."""
    path = source(language)
    config = current_app.config
    contact = config.get("PRIVACY_CONTACT") or config.get("CLINIC_PHONE") or _("our front desk")
    return Markup(_render(str(path), path.stat().st_mtime_ns, config["CLINIC_NAME"], contact))
