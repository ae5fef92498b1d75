"""Through the staff invitation (GET /i/<token>): the only way a returning patient's history comes back."""

from __future__ import annotations

from sqlalchemy import select

from intake import appointments, returning
from intake.models import Submission
from intake.store import appointments as rows
from tests.conftest import Patient
from tests.returning_support import earlier_submission
from tests.staff_support import audit_rows
from tests.test_appointment_pages import issue, make
from tests.walk import PAGES


def test_an_invitation_naming_an_earlier_form_carries_it_forward_to_confirm_and_submit(app, client):
    earlier = earlier_submission(app)
    appointment = make(app, earlier_submission_id=earlier.id, patient_name="Maria López")
    landing = client.get(f"/i/{issue(app, appointment)}")
    assert landing.status_code == 302
    about = client.get(landing.location)
    assert 'value="Maria"' in about.text and "1986-04-12" not in about.text  # identity: only the booking's
    event = audit_rows(app)[-1]
    assert event.action == "history_carried" and event.submission_id == earlier.id
    assert event.detail["appointment_id"] == appointment.id

    patient = Patient(client)
    assert "Is this still right?" in client.get("/intake/neurotoxin").text
    for section in ("about-you", "medical-history", "neurotoxin", "skin"):
        assert patient.post(section, PAGES[section]).status_code == 302, section
    assert patient.post("consent", PAGES["consent"]).location.endswith("/intake/thanks")
    row = rows.row(app.extensions["intake.store"], appointment.id)
    assert appointments.status(row) == "submitted"
    with app.extensions["intake.store"].reading() as session:
        new = session.get(Submission, row.appointment.submission_id)
    assert all(r["confirmed"] for r in new.answers[returning.CARRIED]["sections"].values())


def test_an_invitation_without_an_earlier_form_carries_nothing_even_for_the_same_name(app, client):
    earlier_submission(app)  # Maria López, born 1986-04-12, has been here before
    appointment = make(app, patient_name="Maria López")
    client.get(f"/i/{issue(app, appointment)}")
    patient = Patient(client)
    assert patient.post("about-you", PAGES["about-you"]).status_code == 302  # the same date of birth, too
    page = client.get("/intake/medical-history")
    assert "Is this still right?" not in page.text and "Levothyroxine" not in page.text
    assert "history_carried" not in [e.action for e in audit_rows(app)]
    with app.extensions["intake.store"].reading() as session:
        assert len(session.scalars(select(Submission)).all()) == 1
