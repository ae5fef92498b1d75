"""Which glyph draws each character of a PDF: read from the fonts actually embedded, with fontTools.

pdftotext cannot see a missing glyph: the text is still there, mapped through the
font's ToUnicode table, only drawn as .notdef (an empty box). This looks the other
way round: every glyph id whose ToUnicode text holds a character must be a real
glyph of the embedded font program, with an outline (or, for a colour emoji font,
a bitmap WeasyPrint draws as an image).
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass

from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader


@dataclass
class Embedded:
    name: str
    font: TTFont
    text_of: dict[int, str]  # glyph id -> the text it stands for (ToUnicode)
    page_has_images: bool

    @property
    def colour_emoji(self) -> bool:
        return "Color-Emoji" in self.name


def _to_unicode(data: bytes) -> dict[int, str]:
    cmap = data.decode("latin-1")
    out: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            out[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            base = bytes.fromhex(dst).decode("utf-16-be")
            for step, gid in enumerate(range(int(low, 16), int(high, 16) + 1)):
                out[gid] = base[:-1] + chr(ord(base[-1]) + step)
    return out


def embedded_fonts(pdf: bytes) -> list[Embedded]:
    """Every Type0 font embedded in the PDF, with its font program and ToUnicode map."""
    reader = PdfReader(io.BytesIO(pdf))
    fonts, seen = [], set()
    for page in reader.pages:
        resources = page["/Resources"]
        images = any(x.get_object().get("/Subtype") == "/Image" for x in (resources.get("/XObject") or {}).values())
        for ref in (resources.get("/Font") or {}).values():
            if ref.idnum in seen:
                continue
            seen.add(ref.idnum)
            font = ref.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            program = (descriptor.get("/FontFile2") or descriptor.get("/FontFile3")).get_object().get_data()
            fonts.append(Embedded(str(font["/BaseFont"]), TTFont(io.BytesIO(program)),
                                  _to_unicode(font["/ToUnicode"].get_object().get_data()), images))
    return fonts


def _has_outline(font: TTFont, gid: int) -> bool:
    glyphs = font.getGlyphSet()
    pen = BoundsPen(glyphs)
    glyphs[font.getGlyphOrder()[gid]].draw(pen)
    return pen.bounds is not None


def _drawable(char: str) -> bool:
    """Characters that are drawn at all: not spaces, joiners (format characters) or variation selectors."""
    return not (char.isspace() or unicodedata.category(char) == "Cf" or 0xFE00 <= ord(char) <= 0xFE0F)


def problems(pdf: bytes, text: str) -> dict[str, list[str]]:
    """For each drawable character of `text` that the PDF does not draw with a real glyph: why not."""
    fonts = embedded_fonts(pdf)
    found: dict[str, list[str]] = {}
    for char in dict.fromkeys(c for c in text if _drawable(c)):
        uses = [(f, gid) for f in fonts for gid, mapped in f.text_of.items() if char in mapped]
        if not uses:
            found[char] = ["not drawn at all"]
            continue
        for font, gid in uses:
            if gid == 0:
                found.setdefault(char, []).append(f"{font.name}: .notdef (glyph 0)")
            elif gid >= font.font["maxp"].numGlyphs:
                found.setdefault(char, []).append(f"{font.name}: glyph {gid} is not in the font (a missing glyph)")
            elif font.colour_emoji:
                if not font.page_has_images or char.isascii():
                    found.setdefault(char, []).append(f"{font.name}: colour emoji glyph without its bitmap")
            elif not _has_outline(font.font, gid):
                found.setdefault(char, []).append(f"{font.name}: glyph {gid} is empty")
    return found
