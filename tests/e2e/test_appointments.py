"""An invited patient opens her personal link on a phone, submits, and the appointment turns "submitted" for staff."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from intake import appointments
from intake.models import utcnow
from intake.store import appointments as rows
from tests.e2e.browsing import fill, next_page, press
from tests.e2e.conftest import PHONE
from tests.e2e.staffing import DESKTOP, create_staff, sign_in
from tests.walk import PAGES, SECTIONS

pytestmark = pytest.mark.browser
# What the clinic knows already: the form shows it filled in, and the patient leaves it as it is.
KNOWN = ("first_name", "last_name", "email", "phone", "visit_date")


def test_an_invitation_opened_on_a_phone_is_submitted_and_shows_as_submitted(live_server, new_context):
    app, store = live_server.app, live_server.app.extensions["intake.store"]
    visit = dt.datetime.combine(utcnow().date() + dt.timedelta(days=1), dt.time(10, 30), dt.UTC)
    with app.app_context():
        appointment = appointments.create(store, patient_name="Elena Navarro", email="elena@example.org",
                                          mobile="+34 600 222 333", visit_at=visit, treatments="both")
        token = appointments.issue_token(store, appointment)
    rows.mark_invited(store, appointment.id, utcnow())

    page = new_context(viewport=PHONE).new_page()
    page.goto(f"{live_server.url}/i/{token}")
    expect(page).to_have_url(re.compile("/intake/about-you$"))
    assert token not in page.url
    expect(page.locator('[name="first_name"]')).to_have_value("Elena")
    expect(page.locator('[name="last_name"]')).to_have_value("Navarro")
    expect(page.locator('[name="email"]')).to_have_value("elena@example.org")
    expect(page.locator('[name="visit_date"]')).to_have_value(visit.date().isoformat())
    fill(page, {k: v for k, v in PAGES["about-you"].items() if k not in KNOWN})
    for section_id, following in zip(SECTIONS, [*SECTIONS[1:], "photos"], strict=True):
        if section_id != "about-you":
            fill(page, PAGES[section_id])
        next_page(page, f"/intake/{following}")
    next_page(page, "/intake/review")  # the optional photos page, skipped
    page.get_by_role("link", name="Continue to consent and signature").click()
    fill(page, PAGES["consent"])
    press(page, "Sign and submit")
    expect(page).to_have_url(re.compile("/intake/thanks$"))
    reference = page.locator(".reference").inner_text().strip()

    create_staff(app, "frontdesk.appointments@clinic.example", "staff")
    desk = new_context(viewport=DESKTOP).new_page()
    sign_in(desk, live_server.url, "frontdesk.appointments@clinic.example")
    desk.get_by_role("link", name="Appointments", exact=True).click()
    row = desk.locator("tr", has_text="Elena Navarro")
    expect(row).to_contain_text("Submitted")
    expect(row).to_contain_text(reference)
    expect(row.get_by_role("button", name=re.compile("Link and QR code"))).to_have_count(0)
    stored = rows.row(store, appointment.id)
    assert appointments.status(stored) == "submitted" and stored.reference == reference


def test_the_appointment_pages_pass_axe(live_server, new_context, tmp_path):
    from tests.e2e.test_a11y import check

    app, store = live_server.app, live_server.app.extensions["intake.store"]
    with app.app_context():
        appointments.create(store, patient_name="Axe Patient", email="axe@example.org",
                            visit_at=utcnow() + dt.timedelta(hours=3), treatments="consultation", language="es")
    create_staff(app, "axe.appointments@clinic.example", "staff")
    problems: dict[str, list[str]] = {}
    page = new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "axe.appointments@clinic.example")
    page.goto(live_server.url + "/staff/appointments/")
    check(page, "staff appointments", problems)
    page.locator("tr", has_text="Axe Patient").get_by_role("button", name=re.compile("Link and QR code")).click()
    check(page, "staff appointment link and QR code", problems)
    page.goto(live_server.url + "/staff/appointments/new")
    page.get_by_role("button", name="Add the appointment").click()
    check(page, "staff add appointment, with errors", problems)
    page.goto(live_server.url + "/staff/appointments/")
    page.locator("tr", has_text="Axe Patient").get_by_role("link", name=re.compile("^Edit")).click()
    check(page, "staff change appointment", problems)
    page.fill("#f-email", "")
    page.fill("#f-mobile", "")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.locator("#error-summary")).to_be_visible()
    check(page, "staff change appointment, with errors", problems)
    with app.app_context():
        # The live server is shared with the other tests here: pick this test's booking by name.
        (booked,) = [row for row in rows.between(store, utcnow() - dt.timedelta(days=1), utcnow() + dt.timedelta(days=1))
                     if row.appointment.patient_name == "Axe Patient"]
        token = appointments.issue_token(store, booked.appointment)
    page.get_by_role("button", name="Cancel this appointment").click()
    expect(page.locator("tr", has_text="Axe Patient").locator(".badge-cancelled")).to_be_visible()
    check(page, "staff appointments, one cancelled", problems)
    bookings = tmp_path / "bookings.csv"
    bookings.write_text("name,email,phone,date,time\nAna,ana@example,,2020-01-01,10:00\n", encoding="utf-8")
    page.goto(live_server.url + "/staff/appointments/import")
    check(page, "staff appointment import", problems)
    page.set_input_files("#i-file", str(bookings))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".preview-errors")).to_be_visible()
    check(page, "staff appointment import preview, with errors", problems)
    patient = new_context(viewport=PHONE).new_page()
    patient.goto(live_server.url + "/i/no-such-invitation")
    check(patient, "patient invitation link that no longer works", problems)
    patient.goto(live_server.url + f"/i/{token}")
    expect(patient.get_by_role("heading", name="Esta visita se ha cancelado")).to_be_visible()
    check(patient, "patient invitation of a cancelled visit", problems)
    assert not problems, problems
