"""Render the README's PDF pages at 70 dpi with pdftoppm: the rich walk-through patient, and page 1 of a patient
whose name and answers use every script the PDF must draw (Latin, Greek, Cyrillic, Arabic, Hebrew, Devanagari,
Thai, Chinese, Japanese, Korean, emoji).

    .venv/bin/python docs/pdf_pages.py [OUT]  # writes OUT/pdf-page-1.png .. -3.png and OUT/pdf-scripts-page-1.png
                                              # (OUT defaults to docs/)
"""

from __future__ import annotations

import base64
import math
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intake import create_app, renders, screening  # noqa: E402
from intake.cli import upgrade_database  # noqa: E402
from intake.store import submissions  # noqa: E402
from tests.vignettes import multiscript  # noqa: E402
from tests.walk import EXPECTED  # noqa: E402


def squiggle_png(width: int = 360, height: int = 90) -> str:
    """A hand-drawn-looking signature as a PNG data URL, made without any imaging library."""
    ink = [[0] * width for _ in range(height)]
    for x in range(20, width - 20):
        y = int(height / 2 + 22 * math.sin(x / 11) * math.cos(x / 53))
        for dy in (-1, 0, 1):
            ink[y + dy][x] = 255
    raw = b"".join(b"\x00" + bytes(v for a in row for v in (0, a)) for row in ink)  # grey + alpha
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 4, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode()


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs"
    folder = Path(tempfile.mkdtemp())
    app = create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "docs", "CLINIC_NAME": "Harbour Aesthetic Clinic"})
    upgrade_database(app.config["DATABASE_URL"])
    q = app.extensions["intake.questionnaire"]
    patients = {"pdf-page": {**EXPECTED, "signature_drawing": squiggle_png()}, "pdf-scripts-page": multiscript()}
    with app.app_context():
        for prefix, answers in patients.items():
            flags = screening.flag_dicts(answers, screening.dt.date.today())
            submission, _ = submissions.submit(app.extensions["intake.store"], submit_token=prefix * 4,
                                               questionnaire_id=q.id, questionnaire_version=q.version,
                                               answers=answers, flags=flags, rules_version=screening.RULES_VERSION)
            path = Path(app.instance_path) / f"{prefix}.pdf"  # the stored PDF is encrypted: pdftoppm gets a copy
            path.write_bytes(renders.ensure_pdf(submission))
            last = ["-l", "1"] if prefix == "pdf-scripts-page" else []
            subprocess.run(["pdftoppm", "-png", "-r", "70", *last, str(path), str(out / prefix)], check=True)
    print(f"wrote {', '.join(sorted(p.name for p in out.glob('pdf-*page*.png')))} to {out}")


if __name__ == "__main__":
    main()
