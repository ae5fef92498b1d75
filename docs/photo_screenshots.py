"""Screenshots for the README's "Photos" section (issue 13): the upload page on a phone, and the PDF's photo page.

    .venv/bin/python docs/photo_screenshots.py [EXTRA_OUT]

Writes docs/screenshots/phone-photos.png (previews chosen, English), docs/screenshots/phone-photos-es.png
(two photos added, Spanish) and docs/pdf-photos-page.png; EXTRA_OUT (e.g. /work/artifacts/13b) gets copies
and the intermediate steps. The photos are drawn here with Pillow: no real patient.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docs.screenshots import CHROMIUM_ARGS, serve  # noqa: E402
from intake import renders  # noqa: E402
from intake.store import submissions  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PHONE = {"width": 375, "height": 812}


def skin_photo(seed: int, size=(1600, 1200)) -> bytes:
    """A soft skin-toned picture with a faint mark: something that looks like a close-up, made of gradients."""
    width, height = size
    base = [(224, 184, 160), (198, 150, 120), (236, 200, 178)][seed % 3]
    image = Image.new("RGB", size, base)
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 4):
        shade = int(18 * math.sin(y / height * math.pi + seed))
        draw.rectangle((0, y, width, y + 4), fill=tuple(max(0, min(255, c + shade)) for c in base))
    if seed % 2 == 0:
        draw.line([(width * 0.3, height * 0.55), (width * 0.5, height * 0.5), (width * 0.68, height * 0.58)],
                  fill=tuple(c - 45 for c in base), width=18)
    else:
        for n in range(14):
            x, y = width * (0.3 + 0.03 * (n % 5)) + 40 * n, height * (0.4 + 0.04 * (n % 3))
            draw.ellipse((x, y, x + 38, y + 30), fill=tuple(c - 30 for c in base))
    image = image.filter(ImageFilter.GaussianBlur(6))
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0110] = "Phone camera"
    exif.get_ifd(0x8825).update({1: "N", 2: (40.0, 26.0, 46.0), 3: "W", 4: (79.0, 58.0, 56.0)})
    image.save(out, format="JPEG", quality=88, exif=exif)
    return out.getvalue()


def main(extra: Path | None) -> None:
    from playwright.sync_api import sync_playwright

    app, server, base = serve()
    shots: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=PHONE, device_scale_factor=2).new_page()
        page.goto(base + "/")
        page.get_by_role("button", name="Start").click()
        page.goto(base + "/intake/photos")
        page.locator("#photo-1").set_input_files({"name": "IMG_2041.HEIC.jpg", "mimeType": "image/jpeg", "buffer": skin_photo(0)})
        page.locator("#photo-1-caption").fill("Acne scar on my left cheek")
        page.locator("#photo-2").set_input_files({"name": "IMG_2057.jpg", "mimeType": "image/jpeg", "buffer": skin_photo(1)})
        page.locator("#photo-2-caption").fill("How it looked after the last peel")
        page.locator('[data-preview-for="photo-2"] img').wait_for()
        shots.append(OUT / "phone-photos.png")
        page.screenshot(path=shots[-1], full_page=True)
        page.get_by_role("button", name="Add and stay on this page").click()
        page.get_by_role("heading", name="Your photos").wait_for()
        page.wait_for_load_state("networkidle")
        if extra:
            shots.append(extra / "phone-photos-added.png")
            page.screenshot(path=shots[-1], full_page=True)

        spanish = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="es",
                                      extra_http_headers={"Accept-Language": "es"}).new_page()
        spanish.goto(base + "/")
        spanish.get_by_role("button", name="Empezar").click()
        spanish.goto(base + "/intake/photos")
        spanish.locator("#photo-1").set_input_files({"name": "foto.jpg", "mimeType": "image/jpeg", "buffer": skin_photo(2)})
        spanish.locator("#photo-1-caption").fill("Manchas en la frente")
        spanish.get_by_role("button", name="Agregar y seguir en esta página").click()
        spanish.get_by_role("heading", name="Sus fotos").wait_for()
        spanish.wait_for_load_state("networkidle")
        shots.append(OUT / "phone-photos-es.png")
        spanish.screenshot(path=shots[-1], full_page=True)
        browser.close()
    server.shutdown()

    # The PDF's photo page, for the first patient's photos moved onto a stored submission.
    from tests.photo_support import add_submission_photo
    from tests.walk import EXPECTED

    with app.app_context():
        store = app.extensions["intake.store"]
        submission, _ = submissions.submit(store, submit_token="photo-screenshots", questionnaire_id="consultation",
                                           questionnaire_version="2026.11.1", answers=EXPECTED)
        add_submission_photo(app, submission.id, "Acne scar on my left cheek", skin_photo(0))
        add_submission_photo(app, submission.id, "How it looked after the last peel", skin_photo(1))
        add_submission_photo(app, submission.id, "Manchas en la frente", skin_photo(2))
        data = renders.ensure_pdf(submission)
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "summary.pdf"
        pdf.write_bytes(data)
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        number = next(n for n, page in enumerate(text.split("\f"), 1) if "PATIENT'S PHOTOS" in page)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(number), "-l", str(number), "-singlefile", str(pdf),
                        str(ROOT / "docs" / "pdf-photos-page")], check=True)
    shots.append(ROOT / "docs" / "pdf-photos-page.png")
    if extra:
        extra.mkdir(parents=True, exist_ok=True)
        for shot in shots:
            if shot.parent != extra:
                shutil.copy(shot, extra / shot.name)
    print("\n".join(str(s) for s in shots))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
