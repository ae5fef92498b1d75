"""Take the README's screenshot of the invitation e-mail (HTML part) as a phone shows it, 375 px wide.

    .venv/bin/python docs/mail_screenshots.py     # writes docs/screenshots/mail-invitation*.png

Builds the e-mail the way the job does (no SMTP configured, so it lands as a .eml file in a throwaway
instance folder), takes its HTML part, and renders it in headless Chromium with no network.
"""

from __future__ import annotations

import datetime as dt
import email
import sys
import tempfile
from email import policy
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intake import appointments, create_app, mail  # noqa: E402
from intake.cli import upgrade_database  # noqa: E402
from intake.db import get_store  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
CLINIC = {"CLINIC_NAME": "Harbour Aesthetic Clinic", "CLINIC_PHONE": "+1 555 010 2000",
          "CLINIC_EMAIL": "hello@harbour.example", "CLINIC_ADDRESS": "12 Quay Street, Harbour Town",
          "PUBLIC_URL": "https://forms.harbour.example", "CLINIC_TIMEZONE": "America/New_York"}


def build(folder: Path) -> dict[str, str]:
    upgrade_database(f"sqlite:///{folder / 'intake.sqlite3'}")
    app = create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "screenshots", "JOBS_IMMEDIATE": True, **CLINIC})
    visit = dt.datetime.now(dt.UTC).replace(hour=15, minute=30, second=0, microsecond=0) + dt.timedelta(days=3)
    with app.app_context():
        for language in ("en", "es"):
            appointment = appointments.create(get_store(), patient_name="Demo Patient", visit_at=visit,
                                              treatments="consultation", email="patient@example.com", language=language)
            mail.send_invitation(appointment.id)
    found = {}
    for eml in sorted((folder / "mail").glob("*.eml")):
        message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        found[message["Content-Language"]] = message.get_body(("html",)).get_content()
    return found


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pages = build(Path(tmp))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 375, "height": 812}, device_scale_factor=1)
        page.route("**/*", lambda route: route.abort())  # an e-mail loads nothing from the network
        for language, html in pages.items():
            page.set_content(html)
            name = "mail-invitation.png" if language == "en" else f"mail-invitation-{language}.png"
            page.screenshot(path=OUT / name, full_page=True)
            print(OUT / name)
        browser.close()


if __name__ == "__main__":
    main()
