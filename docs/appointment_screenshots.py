"""Take the README's screenshot of the appointment view (and a few more for review) in headless Chromium.

    .venv/bin/python docs/appointment_screenshots.py [extra-folder]

Writes docs/screenshots/staff-appointments.png; with a folder, also the add and change forms with errors, the CSV
import preview, the link and QR code page and the patient's prefilled first page on a phone there.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docs.screenshots import CHROMIUM_ARGS, OUT, serve  # noqa: E402

EMAIL, PASSWORD = "frontdesk@clinic.example", "screenshots-only-password"
CSV = """Client Name;E-mail Address;Mobile Phone;Appointment Date;Start Time;Service
Lucía Pérez;lucia@example.org;+34 600 111 222;{d};10:00;Botox
Tom Becker;;;{d};11:00;
Aiko Tanaka;aiko@example.org;;2026-13-45;12:00;consultation
Pedro Ruiz;pedro@example;;{d};3:30 pm;micro-needling
Jorge Díaz;jorge@example.org;+34 611 000 999;{d};16:45;
"""


def book(app) -> None:
    """Today's and tomorrow's appointments, one in each state, and a few later ones."""
    from intake import accounts, appointments
    from intake.models import Submission, utcnow
    from intake.store import appointments as rows
    from intake.store import drafts, submissions

    store = app.extensions["intake.store"]
    today = utcnow().date()

    def at(days: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(today + dt.timedelta(days=days), dt.time(hour, minute), dt.UTC)

    def add(name, when, treatments="neurotoxin", state="invited", email=True, language="en"):
        local = name.lower().split()[0].replace("í", "i").replace("é", "e")
        appointment = appointments.create(store, patient_name=name, visit_at=when, treatments=treatments,
                                          email=f"{local}@example.org" if email else None, mobile="+34 600 123 456",
                                          language=language)
        if state == "cancelled":
            appointments.cancel(store, appointment.id)
            return
        if state == "not sent":
            return
        rows.mark_invited(store, appointment.id, utcnow())
        if state == "invited":
            return
        first, last = name.split(" ", 1)
        token, draft = drafts.create(store, page="about-you", language=language,
                                     answers={"first_name": first, "last_name": last})
        rows.opened(store, appointment.id, draft.id, utcnow())
        if state == "opened":
            return
        drafts.save(store, token, {"first_name": first, "last_name": last}, "medical-history")
        if state == "in progress":
            return
        submission, _ = submissions.submit(store, submit_token=draft.submit_token, questionnaire_id="consultation",
                                           questionnaire_version="1", answers={"first_name": first, "last_name": last},
                                           draft_token=token)
        if state == "reviewed":
            with store.writing() as session:
                session.get(Submission, submission.id).status = "reviewed"

    with app.app_context():
        accounts.create_user(EMAIL, "staff", PASSWORD)
        add("Carmen Ruiz", at(0, 9, 0), "both", "reviewed", language="es")
        add("Daniel Kim", at(0, 11, 30), "microneedling", "in progress")
        add("Lucía Pérez", at(0, 14, 0), "neurotoxin", "invited", language="es")
        add("Grace Okafor", at(0, 16, 15), "consultation", "not sent", email=False)
        add("Maria López", at(1, 9, 30), "neurotoxin", "submitted")
        add("Sofía Morales", at(1, 12, 0), "both", "opened", language="es")
        add("James O'Connor", at(1, 15, 45), "consultation", "invited")
        add("Lena Fischer", at(1, 17, 0), "microneedling", "cancelled")
        add("Hannah Weber", at(3, 10, 0), "microneedling", "invited")
        add("Ravi Patel", at(6, 17, 30), "neurotoxin", "not sent")


def main() -> None:
    extra = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    app, server, base = serve()
    book(app)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/staff/login")
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.goto(base + "/staff/appointments/")
            page.screenshot(path=OUT / "staff-appointments.png", full_page=True)
            if extra:
                extra.mkdir(parents=True, exist_ok=True)
                page.goto(base + "/staff/")
                page.screenshot(path=extra / "staff-dashboard-appointments-card.png")
                page.goto(base + "/staff/appointments/new")
                page.get_by_label("Patient’s name").fill("Ana García")
                page.get_by_label("Visit date").fill("2020-01-01")
                page.get_by_label("Visit time").fill("10:00")
                page.get_by_role("button", name="Add the appointment").click()
                page.screenshot(path=extra / "appointment-add-errors.png", full_page=True)
                page.goto(base + "/staff/appointments/import")
                csv_file = extra / "bookings.csv"
                day = (dt.date.today() + dt.timedelta(days=2)).strftime("%d/%m/%Y")
                csv_file.write_text(CSV.format(d=day), encoding="utf-8")
                page.set_input_files("#i-file", str(csv_file))
                page.get_by_role("button", name="Preview").click()
                page.screenshot(path=extra / "appointment-import-preview.png", full_page=True)
                page.goto(base + "/staff/appointments/")
                page.locator("tr", has_text="Hannah Weber").get_by_role("link", name="Edit").click()
                page.get_by_label("Visit date").fill("2020-01-01")
                page.get_by_role("button", name="Save the changes").click()
                page.screenshot(path=extra / "appointment-edit-errors.png", full_page=True)
                page.goto(base + "/staff/appointments/")
                page.locator("tr", has_text="James O'Connor").get_by_role("button", name="Link and QR code").click()
                page.screenshot(path=extra / "appointment-link-qr.png", full_page=True)
                link = page.locator("#invite-url").input_value()
                phone = browser.new_page(viewport={"width": 375, "height": 812})
                phone.goto(link)
                phone.screenshot(path=extra / "invitation-phone-prefilled.png", full_page=True)
                phone.goto(base + "/i/not-a-valid-link")
                phone.screenshot(path=extra / "invitation-expired-phone.png")
                page.set_viewport_size({"width": 375, "height": 812})
                page.goto(base + "/staff/appointments/")
                page.screenshot(path=extra / "staff-appointments-phone.png", full_page=True)
            browser.close()
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
