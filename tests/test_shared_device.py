"""Shared devices: a remembered draft is offered by first name only and opens with the date of birth or the link."""

from __future__ import annotations

import re

import pytest

from intake.store import drafts
from intake.web import draft_access
from tests.conftest import Patient, hidden_fields
from tests.walk import PAGES, walk_to_consent

IDLE = 15 * 60
# What patient A typed that patient B must never see.
PRIVATE = ("López", "maria.lopez@example.com", "1986-04-12", "+1 555 201 3344", "Levothyroxine", "Penicillin",
           "My Botox wears off fast", "/intake/resume/")
FORM_PAGES = ["/intake/about-you", "/intake/medical-history", "/intake/neurotoxin", "/intake/skin", "/intake/photos",
              "/intake/review", "/intake/consent"]


@pytest.fixture
def clock(monkeypatch):
    """Move the shared-device clock forward without waiting."""
    class Clock:
        offset = 0

        def later(self, seconds: int) -> None:
            self.offset += seconds

    clock = Clock()
    real = draft_access.now
    monkeypatch.setattr(draft_access, "now", lambda: real() + clock.offset)
    return clock


def _assert_nothing_private(text: str) -> None:
    for value in PRIVATE:
        assert value not in text, value


def _token(patient) -> str:
    return patient.resume_url().rsplit("/", 1)[1]


def test_patient_b_on_the_same_browser_sees_nothing_of_patient_a(app, patient, clock):
    walk_to_consent(patient)  # patient A fills in everything up to the consent page, then walks away
    link = patient.resume_url()
    clock.later(IDLE + 1)
    client = patient.client  # patient B picks up the same tablet, the same browser
    start = client.get("/")
    assert "Continue as Maria?" in start.text
    assert "Continue where you left off" not in start.text
    _assert_nothing_private(start.text)
    for path in FORM_PAGES:
        response = client.get(path, follow_redirects=True)
        assert response.request.path == "/", path
        _assert_nothing_private(response.text)
    # Patient A is still fine: her link opens everything.
    fresh = app.test_client()
    resumed = fresh.get(link.replace("http://localhost", ""), follow_redirects=True)
    assert 'value="Maria"' in fresh.get("/intake/about-you").text and resumed.status_code == 200


def test_the_date_of_birth_reopens_the_draft_where_it_was(app, patient, clock):
    walk_to_consent(patient)
    clock.later(IDLE + 1)
    client = patient.client
    token = hidden_fields(client.get("/").text)["csrf_token"]
    wrong = client.post("/intake/continue", data={"csrf_token": token, "date_of_birth": "1986-12-04"},
                        follow_redirects=True)
    assert "does not match" in wrong.text and "Continue as Maria?" in wrong.text
    right = client.post("/intake/continue", data={"csrf_token": token, "date_of_birth": "1986-04-12"})
    assert right.status_code == 302 and right.location == "/intake/review"
    assert "maria.lopez@example.com" in client.get("/intake/review").text


def test_too_many_wrong_dates_forget_the_draft_here_and_only_the_link_opens_it(app, patient, clock):
    walk_to_consent(patient)
    token = _token(patient)
    clock.later(IDLE + 1)
    client = patient.client
    csrf = hidden_fields(client.get("/").text)["csrf_token"]
    for attempt in range(5):
        response = client.post("/intake/continue", data={"csrf_token": csrf, "date_of_birth": f"2000-01-0{attempt + 1}"},
                               follow_redirects=True)
    assert "now closed on this device" in response.text
    assert "Continue as" not in client.get("/").text
    # Counted on the server: another browser with the remembered cookie cannot keep guessing.
    assert drafts.get(app.extensions["intake.store"], token).unlock_failures == 5
    other = Patient(app.test_client())
    other.client.get(f"/intake/resume/{token}")
    assert 'value="Maria"' in other.client.get("/intake/about-you").text
    assert drafts.get(app.extensions["intake.store"], token).unlock_failures == 0


def test_not_you_forgets_the_draft_and_starts_a_new_one(app, patient, clock):
    walk_to_consent(patient)
    a_token = _token(patient)
    clock.later(IDLE + 1)
    client = patient.client
    csrf = hidden_fields(client.get("/").text)["csrf_token"]
    response = client.post("/intake/start-over", data={"csrf_token": csrf})
    assert response.location == "/intake/about-you"
    page = client.get("/intake/about-you").text
    assert 'value="Maria"' not in page and a_token not in page
    for value in PRIVATE[:-1]:
        assert value not in page  # B sees only B's own, empty form (and B's own link)


def test_while_the_patient_is_still_typing_nothing_is_asked(patient, clock):
    patient.start()
    for section_id in ("about-you", "medical-history"):
        clock.later(IDLE - 60)  # each page within the idle limit of the one before
        assert patient.post(section_id, PAGES[section_id]).status_code == 302
    assert "Continue where you left off" in patient.client.get("/").text


def test_a_draft_without_a_name_or_birth_date_is_never_offered(app, patient, clock):
    patient.start()
    patient.post("about-you", {"first_name": "Ana"}, action="back")
    clock.later(IDLE + 1)
    start = patient.client.get("/")
    assert "Continue as" not in start.text and "Ana" not in start.text
    assert "open it with its private link" in start.text
    assert patient.client.get("/intake/about-you").location == "/"


def test_a_stale_tab_of_patient_a_cannot_write_into_or_reopen_her_form_after_not_you(app, patient, clock):
    patient.start()
    stale = patient.client.get("/intake/about-you").text  # A's tab, left open
    clock.later(IDLE + 1)
    client = patient.client
    csrf = hidden_fields(client.get("/").text)["csrf_token"]
    client.post("/intake/start-over", data={"csrf_token": csrf})  # B: "Not you? Start a new form"
    b_page = client.get("/intake/about-you").text
    # B presses Next on A's old tab: the page names A's draft, which this browser forgot.
    data = {**hidden_fields(stale), **PAGES["about-you"], "csrf_token": hidden_fields(b_page)["csrf_token"]}
    response = client.post("/intake/about-you", data=data, follow_redirects=True)
    assert "closed on this device" in response.text
    assert 'value="Maria"' not in client.get("/intake/about-you").text  # B's own form did not get A's page


def test_a_page_carries_a_sealed_ticket_not_the_resume_token(app, patient):
    patient.start()
    page = patient.client.get("/intake/about-you").text
    token = _token(patient)
    ticket = hidden_fields(page)["draft_token"]
    assert token not in ticket and len(ticket) > 60


def test_a_lost_session_long_after_the_page_was_made_saves_but_opens_nothing(app, patient, clock):
    patient.start()
    token = _token(patient)
    page = patient.client.get("/intake/about-you")
    tokens = hidden_fields(page.text)
    clock.later(IDLE + 1)
    patient.client.delete_cookie("intake_session")
    fresh_csrf = hidden_fields(patient.client.get("/").text)["csrf_token"]
    response = patient.client.post("/intake/about-you", data={**tokens, **PAGES["about-you"], "csrf_token": fresh_csrf,
                                                              "action": "next"})
    assert response.location == "/"
    assert "Continue as Maria?" in patient.client.get("/").text
    assert drafts.get(app.extensions["intake.store"], token).answers["first_name"] == "Maria"  # nothing lost
    assert patient.client.get("/intake/medical-history").location == "/"


def test_a_forged_ticket_opens_nothing(app, client):
    response = client.post("/intake/about-you", data={"draft_token": "gAAAAAforged", **PAGES["about-you"]})
    assert response.status_code in (302, 400)
    assert "Maria" not in response.text


def test_the_offer_shows_the_first_name_and_nothing_else(app, patient, clock):
    walk_to_consent(patient)
    clock.later(IDLE + 1)
    start = patient.client.get("/").text
    main = re.search(r"<main.*</main>", start, re.S).group(0)
    assert "Maria" in main and "Mari<" not in main and "López" not in main


def test_the_idle_limit_is_configurable(tmp_path, migrated_sqlite, clock):
    import shutil

    from tests.conftest import make_app

    shutil.copy(migrated_sqlite, tmp_path / "idle.sqlite3")
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'idle.sqlite3'}", DRAFT_IDLE_MINUTES=2)
    patient = Patient(app.test_client())
    patient.start()
    patient.post("about-you", PAGES["about-you"])
    clock.later(121)
    assert patient.client.get("/intake/medical-history").location == "/"
    app.extensions["intake.store"].engine.dispose()
