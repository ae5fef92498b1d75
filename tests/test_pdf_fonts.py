"""Every script the patient may type is drawn with real glyphs, from small subsets of installed fonts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from intake import pdf
from tests.glyphs import embedded_fonts, problems
from tests.test_pdf import pdf_text, store_submission
from tests.vignettes import SCRIPT_NAMES, multiscript
from tests.walk import EXPECTED

ROOT = Path(__file__).resolve().parent.parent
CORPUS = " ".join(SCRIPT_NAMES.values())
# Measured 49 KB (Latin) and 76 KB (every script): a whole font, or a CFF CJK subset (~100 KB a face), breaks these.
MAX_LATIN_BYTES = 80_000
MAX_MULTISCRIPT_BYTES = 130_000


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, migrated_sqlite):
    """The multi-script patient's PDF and the walk-through patient's, rendered once for this module."""
    import shutil

    from tests.conftest import make_app

    folder = tmp_path_factory.mktemp("fonts")
    shutil.copy(migrated_sqlite, folder / "intake.sqlite3")
    app = make_app(folder, f"sqlite:///{folder / 'intake.sqlite3'}")
    made = {}
    for name, answers in (("multiscript", multiscript()), ("latin", EXPECTED)):
        submission = store_submission(app, answers, token=name * 8)
        with app.app_context():
            made[name] = pdf.render_summary(submission)
    app.extensions["intake.store"].engine.dispose()
    return made


@pytest.mark.parametrize("script", list(SCRIPT_NAMES))
def test_every_script_is_drawn_with_real_glyphs_of_the_embedded_fonts(rendered, script):
    assert problems(rendered["multiscript"], SCRIPT_NAMES[script]) == {}


def test_the_names_are_in_the_text_and_right_to_left_scripts_are_shaped(rendered):
    text = pdf_text(rendered["multiscript"])[0]
    for script in ("Latin with diacritics", "Greek", "Cyrillic", "Chinese", "Korean"):
        assert SCRIPT_NAMES[script] in text, script
    fonts = {f.name.split("+")[-1]: f for f in embedded_fonts(rendered["multiscript"])}
    arabic = fonts["Noto-Sans-Arabic"]
    # Shaped: محمد joins its letters, so its two mīms are drawn with two glyphs (initial and medial forms).
    assert len([gid for gid, text in arabic.text_of.items() if text == "م"]) >= 2, "Arabic letters drawn unjoined"
    assert "Noto-Sans-Hebrew" in fonts


def test_digits_and_latin_are_never_drawn_with_the_emoji_font(rendered):
    """Naming the colour emoji font in a family list makes Pango draw digits with it: grey bitmap digits."""
    for name in ("latin", "multiscript"):
        for font in embedded_fonts(rendered[name]):
            if font.colour_emoji:
                assert not any(text.isascii() and text.strip() for text in font.text_of.values()), name
    assert problems(rendered["latin"], "0123456789 Maria López #") == {}


def test_pdfs_stay_small_because_fonts_are_subset(rendered):
    assert len(rendered["latin"]) < MAX_LATIN_BYTES
    assert len(rendered["multiscript"]) < MAX_MULTISCRIPT_BYTES
    for font in embedded_fonts(rendered["multiscript"]):
        # A subset keeps the glyph ids (WeasyPrint retains them) but drops every outline not used: Micro Hei has
        # 30,000 outlines, Noto Sans 2,000; the subsets keep a few dozen (used glyphs and their components).
        outlines = sum(1 for gid in range(font.font["maxp"].numGlyphs) if _has_glyph_data(font, gid))
        assert outlines < 150, font.name


def _has_glyph_data(font, gid: int) -> bool:
    table = font.font.get("glyf")
    return table is not None and table[font.font.getGlyphOrder()[gid]].numberOfContours != 0


RENDER_WITH_DEJAVU_ONLY = """
import sys
from intake import create_app, pdf, summary
from intake.store import submissions
app = create_app({"TESTING": True, "INSTANCE_PATH": sys.argv[1], "SECRET_KEY": "x",
                  "DATABASE_URL": "sqlite:///" + sys.argv[1] + "/intake.sqlite3"})
with app.app_context():
    s = submissions.get_by_reference(app.extensions["intake.store"], sys.argv[2])
    open(sys.argv[3], "wb").write(pdf.render_summary(s))
"""


def test_the_check_catches_missing_glyphs(app, tmp_path):
    """The same page, rendered where fontconfig knows only DejaVu (as before this change): the check must fail."""
    submission = store_submission(app, multiscript())
    (tmp_path / "fonts.conf").write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f'<dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path}/fc-cache</cachedir></fontconfig>')
    out = tmp_path / "dejavu-only.pdf"
    env = {**os.environ, "FONTCONFIG_FILE": str(tmp_path / "fonts.conf")}
    subprocess.run([sys.executable, "-c", RENDER_WITH_DEJAVU_ONLY, app.instance_path, submission.reference, str(out)],
                   check=True, env=env, cwd=ROOT, timeout=120)
    found = problems(out.read_bytes(), CORPUS)
    for char in "山田王김민준さअส🙂":
        assert char in found, char
    assert any("not in the font" in why for whys in found.values() for why in whys)
    extracted = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert SCRIPT_NAMES["Chinese"] in extracted, "pdftotext still finds the text: only the glyphs are missing"


def _families(css: str) -> set[str]:
    """The quoted family names of every font / font-family declaration."""
    return {name for declaration in re.findall(r"font(?:-family)?:([^;}]*)", css)
            for name in re.findall(r'"([^"]+)"', declaration)}


def test_every_font_the_pdf_names_is_installed():
    """The Makefile installs them (make run and make test); fc-list is what WeasyPrint's fontconfig sees."""
    css = (pdf.ASSETS / "summary.css").read_text(encoding="utf-8")
    named = _families(css)
    assert {"Noto Sans", "Noto Sans Arabic", "Noto Sans Hebrew", "WenQuanYi Micro Hei"} <= named
    installed = set(subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, check=True)
                    .stdout.replace("\n", ",").split(","))
    assert named - installed == set()
    assert "Noto Color Emoji" in installed
