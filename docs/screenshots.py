"""Take the README's screenshots of the patient form at 375×812 in headless Chromium.

    .venv/bin/python docs/screenshots.py        # writes docs/screenshots/*.png

Serves the app on a free local port with a throwaway instance folder.
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intake import create_app  # noqa: E402
from intake.cli import upgrade_database  # noqa: E402
from tests.e2e.browsing import fill  # noqa: E402 - as the browser tests fill the form (the face map too)
from tests.walk import PAGES  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def serve():
    folder = tempfile.mkdtemp()
    app = create_app({"INSTANCE_PATH": folder, "SECRET_KEY": "screenshots", "SESSION_COOKIE_SECURE": False,
                      "CLINIC_NAME": "Harbour Aesthetic Clinic"})
    upgrade_database(app.config["DATABASE_URL"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, server, f"http://127.0.0.1:{port}"


STAFF_EMAIL, STAFF_PASSWORD = "dr.chen@clinic.example", "screenshots-only-password"


def staff_pages(app, browser, base: str, reference: str) -> None:
    """The dashboard among 40 demo submissions, and the walk-through patient's detail page."""
    from intake import accounts, demo

    with app.app_context():
        demo.insert(app.extensions["intake.store"], 40, seed=5)
        accounts.create_user(STAFF_EMAIL, "physician", STAFF_PASSWORD)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(base + "/staff/login")
    page.get_by_label("Email").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.screenshot(path=OUT / "staff-dashboard.png")
    page.get_by_label("Search").fill(reference)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="López, Maria (Mari)").click()
    page.screenshot(path=OUT / "staff-detail.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    app, server, base = serve()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 375, "height": 812}, device_scale_factor=2)
        page.goto(base + "/")
        page.screenshot(path=OUT / "start.png", full_page=True)
        page.get_by_role("button", name="Start").click()
        fill(page, PAGES["about-you"])
        page.get_by_role("button", name="Next").click()
        medical = {k: v for k, v in PAGES["medical-history"].items()
                   if k not in ("cancer_treatment_area", "isotretinoin_last_dose", "smoking", "allergies")}
        fill(page, medical)
        page.get_by_role("button", name="Next").click()
        page.screenshot(path=OUT / "medical-history-error.png")
        fill(page, {"allergies": ["lidocaine"], "smoking": "never"})
        page.get_by_role("button", name="Next").click()
        page.locator('[name="neurotoxin_ever"][value="yes"]').check()
        page.get_by_role("button", name="Add another treatment").click()
        fill(page, {k: v for k, v in PAGES["neurotoxin"].items() if k != "neurotoxin_ever"})
        page.locator("#q-neurotoxin").screenshot(path=OUT / "neurotoxin-rows.png")
        page.get_by_role("button", name="Next").click()
        if "/skin" not in page.url:
            page.screenshot(path="/tmp/stuck.png", full_page=True)
            raise SystemExit(f"stuck on {page.url}: " + page.locator("#error-summary").inner_text())
        fill(page, PAGES["skin"])
        page.get_by_role("button", name="Next").click()
        page.wait_for_url("**/intake/photos")
        page.get_by_role("button", name="Next").click()  # the optional photos page, skipped
        page.wait_for_url("**/intake/review")
        page.screenshot(path=OUT / "review.png")
        page.get_by_role("link", name="Continue to consent and signature").click()
        fill(page, PAGES["consent"])
        canvas = page.locator("[data-signature-pad] canvas")
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
        page.mouse.down()
        for step in range(1, 30):
            x = box["x"] + 20 + step * (box["width"] - 40) / 30
            y = box["y"] + box["height"] * (0.5 + 0.25 * (-1) ** step * (step % 4) / 4)
            page.mouse.move(x, y)
        page.mouse.up()
        page.screenshot(path=OUT / "consent.png", full_page=True)
        page.get_by_role("button", name="Sign and submit").click()
        page.screenshot(path=OUT / "thanks.png")
        staff_pages(app, browser, base, page.locator(".reference").inner_text())
        browser.close()
    server.shutdown()
    print(f"wrote {', '.join(sorted(p.name for p in OUT.glob('*.png')))} to {OUT}")


if __name__ == "__main__":
    main()
