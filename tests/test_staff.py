"""The dashboard, search and filters, drafts, the detail page, review, PDF download and staff error pages."""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import update

from intake.models import Submission
from intake.store import search
from tests.conftest import Patient
from tests.staff_support import actions, add_submission, as_role, audit_rows, csrf, fake_pdf, post, users  # noqa: F401
from tests.walk import PAGES

TODAY = dt.date.today()
STOP = {"rule_id": "pregnancy", "severity": "stop", "treatment": "both", "message": "Pregnant or breastfeeding",
        "source": "pregnancy"}
REVIEW = {"rule_id": "herpes", "severity": "review", "treatment": "micro-needling", "message": "Cold sores: antiviral",
          "source": "skin_conditions"}


def _names(html: str) -> list[str]:
    return re.findall(r'<td>(?:<a href="[^"]+">)?([^<]+?)(?:</a>)?</td>\s*<td class="nowrap">\d{4}', html)


def search_post(client, **fields):
    token = csrf(client.get("/staff/").text)
    return client.post("/staff/", data={"csrf_token": token, **fields})


def test_todays_and_upcoming_visits_come_first_soonest_first(app, as_role):
    add_submission(app, last_name="Past", visit=TODAY - dt.timedelta(days=3))
    add_submission(app, last_name="Later", visit=TODAY + dt.timedelta(days=9))
    add_submission(app, last_name="Nodate", visit_date=None)
    add_submission(app, last_name="Today", visit=TODAY)
    add_submission(app, last_name="Soon", visit=TODAY + dt.timedelta(days=1))
    page = as_role("staff").get("/staff/").text
    order = [n.split(",")[0] for n in _names(page)]
    assert order[:3] == ["Today", "Soon", "Later"]
    assert set(order[3:]) == {"Past", "Nodate"}
    assert '<span class="badge badge-today">today</span>' in page
    assert re.search(r"<span class=\"stat-n\">1</span> visiting today", page)


@pytest.mark.parametrize(("query", "expected"), [
    ("garcía", {"García"}),
    ("GARC", {"García"}),
    ("maria lópez", {"López"}),
    ("ana", {"García"}),
    ("1990-02-03", {"García"}),
    ("2/3/1990", {"García"}),
    ("nobody", set()),
])
def test_search_by_name_or_date_of_birth(app, as_role, query, expected):
    add_submission(app)  # Maria López, born 1986-04-12
    add_submission(app, first_name="Ana", last_name="García", preferred_name="", date_of_birth="1990-02-03")
    page = search_post(as_role("staff"), q=query).text
    assert {n.split(",")[0] for n in _names(page)} == expected


@pytest.mark.parametrize("form", ["{ref}", "{lower}", "{nodash}"])
def test_search_by_reference(app, as_role, form):
    wanted = add_submission(app, last_name="Wanted")
    add_submission(app, last_name="Other")
    ref = wanted.reference
    query = form.format(ref=ref, lower=ref.lower(), nodash=ref.replace("-", ""))
    assert [n.split(",")[0] for n in _names(search_post(as_role("staff"), q=query).text)] == ["Wanted"]


def test_the_search_term_never_reaches_an_address_or_the_audit_trail(app, as_role):
    add_submission(app)
    client = as_role("staff")
    response = search_post(client, q="lópez")
    assert response.status_code == 200 and response.location is None
    assert len(_names(response.text)) == 1
    assert 'method="post" action="/staff/" id="filters"' in response.text
    # A name in a query string is ignored: GET addresses end up in access logs and browser history.
    assert len(_names(client.get("/staff/?q=nobody-at-all").text)) == 1
    assert all("lópez" not in str(row.detail).lower() for row in audit_rows(app))
    assert audit_rows(app)[-2].detail == {"page": 1, "searched": True, "results": 1}


def test_filters_status_stop_flags_and_visit_range(app, as_role):
    add_submission(app, last_name="Flagged", flags=[STOP], visit=TODAY + dt.timedelta(days=2))
    reviewed = add_submission(app, last_name="Done", visit=TODAY + dt.timedelta(days=20))
    add_submission(app, last_name="Plain", visit=TODAY - dt.timedelta(days=20))
    with app.extensions["intake.store"].writing() as session:
        session.execute(update(Submission).where(Submission.id == reviewed.id).values(status="reviewed"))
    client = as_role("staff")

    def names(**fields):
        return {n.split(",")[0] for n in _names(search_post(client, **fields).text)}

    assert names(stop="1") == {"Flagged"}
    assert names(status="reviewed") == {"Done"}
    assert names(status="new") == {"Flagged", "Plain"}
    assert names(visit_from=TODAY.isoformat(), visit_to=(TODAY + dt.timedelta(days=7)).isoformat()) == {"Flagged"}
    # The same non-identifying filters work as links (the numbers at the top use them).
    assert {n.split(",")[0] for n in _names(client.get("/staff/?status=new&stop=1").text)} == {"Flagged"}


def test_a_bad_filter_value_is_explained_not_an_error(app, as_role):
    response = search_post(as_role("staff"), visit_from="31/31/2020")
    assert response.status_code == 200
    assert "should be a date like 2026-01-31" in response.text


def _cursors(html: str) -> tuple[str, str]:
    """The pager's (previous, next) cursor tokens; "" where the button is disabled."""
    found = re.findall(r'name="cursor" value="([^"]*)"', html)
    return (found[0], found[1]) if found else ("", "")


def test_results_are_paginated_by_cursor_forwards_and_back(app, as_role, monkeypatch):
    from intake.web import staff as staff_views

    monkeypatch.setattr(staff_views, "PAGE_SIZE", 4)
    for n in range(6):
        add_submission(app, last_name=f"C{n}", visit=TODAY + dt.timedelta(days=n))
    for n in range(4):  # submitted after the coming ones, but their visits are past: they come last, newest first
        add_submission(app, last_name=f"P{n}", visit=TODAY - dt.timedelta(days=n + 1))
    client = as_role("staff")
    first = client.get("/staff/").text
    assert "Showing 1–4 of 10" in first and "Page 1 of 3" in first
    assert _cursors(first)[0] == "" and 'value="" disabled>← Previous' in first
    second = search_post(client, cursor=_cursors(first)[1]).text
    third = search_post(client, cursor=_cursors(second)[1]).text
    assert "Showing 5–8 of 10" in second and "Page 2 of 3" in second
    assert "Showing 9–10 of 10" in third and "Page 3 of 3" in third and _cursors(third)[1] == ""
    walked = [n.split(",")[0] for page in (first, second, third) for n in _names(page)]
    assert walked == ["C0", "C1", "C2", "C3", "C4", "C5", "P3", "P2", "P1", "P0"]
    back = search_post(client, cursor=_cursors(third)[0]).text
    assert _names(back) == _names(second) and "Page 2 of 3" in back
    assert _names(search_post(client, cursor=_cursors(back)[0]).text) == _names(first)
    assert audit_rows(app)[-1].detail == {"page": 1, "searched": False, "results": 10}


def test_a_search_pages_with_its_cursor_in_the_form_and_the_cursor_names_no_patient(app, as_role, monkeypatch):
    import base64
    import json

    from intake.web import staff as staff_views

    monkeypatch.setattr(staff_views, "PAGE_SIZE", 2)
    for n in range(3):
        add_submission(app, first_name="Ana", last_name="García", date_of_birth=f"199{n}-02-03")
    add_submission(app, last_name="Other")
    client = as_role("staff")
    first = search_post(client, q="garcía")
    assert "Showing 1–2 of 3 matching your search" in first.text
    token = _cursors(first.text)[1]
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert len(payload) == 3 and payload[1:] == ["after", 2]  # a submission id, a direction, a page number
    assert all(word not in token.lower() for word in ("garc", "ana", "199"))
    second = search_post(client, q="garcía", cursor=token)
    assert second.location is None and "Showing 3–3 of 3 matching your search" in second.text
    assert {n.split(",")[0] for n in _names(first.text) + _names(second.text)} == {"García"}
    # A forged or stale cursor is ignored: the first page, never an error.
    assert "Showing 1–2 of 3" in search_post(client, q="garcía", cursor=token[:-3] + "xyz").text


def test_flags_show_as_badges_with_words(app, as_role):
    add_submission(app, flags=[STOP, REVIEW, REVIEW])
    page = as_role("staff").get("/staff/").text
    assert '<span class="badge badge-stop">1 stop</span>' in page
    assert '<span class="badge badge-review">2 review</span>' in page
    assert 'class="row-stop"' in page


XSS = '<script>alert("x")</script>'
IMG = '<img src=x onerror=alert(1)>'


def test_a_patients_markup_shows_escaped_in_list_and_detail(app, as_role):
    submission = add_submission(app, first_name=XSS, last_name=IMG, other_medications=IMG, goals=XSS)
    client = as_role("physician")
    for page in (client.get("/staff/").text, client.get(f"/staff/submissions/{submission.id}").text):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_detail_page_shows_every_answer_flags_and_its_own_history(app, as_role):
    submission = add_submission(app, flags=[REVIEW, STOP])
    client = as_role("physician")
    page = client.get(f"/staff/submissions/{submission.id}").text
    assert "López, Maria (Mari)" in page and submission.reference in page
    assert "Levothyroxine 50 mcg daily" in page and "Penicillin (rash)" in page
    assert "Abobotulinumtoxin" in page or "Dysport" in page  # choice labels, not codes
    assert page.index("flag-stop") < page.index("flag-review")  # stop first
    assert "Download PDF" in page and "Make a fresh PDF" in page
    assert "Opened a submission" in page  # its own history, including this visit
    assert f'/staff/submissions/{submission.id}.pdf' in page


def test_a_physician_marks_reviewed_with_a_note(app, users, as_role):
    submission = add_submission(app)
    client = as_role("physician")
    response = post(client, f"/staff/submissions/{submission.id}/review", {"note": "Discussed cold sores; valaciclovir."})
    assert response.status_code == 302
    page = client.get(response.location).text
    assert "Marked as reviewed." in page and "Discussed cold sores; valaciclovir." in page
    assert f"Reviewed by {users['physician'].email}" in page
    with app.extensions["intake.store"].reading() as session:
        stored = session.get(Submission, submission.id)
    assert (stored.status, stored.reviewed_by) == ("reviewed", users["physician"].id)
    assert "review" in actions(app)


def test_a_note_that_is_too_long_is_refused_with_the_reason(app, as_role):
    submission = add_submission(app)
    client = as_role("physician")
    response = post(client, f"/staff/submissions/{submission.id}/review", {"note": "x" * 2001})
    assert "please keep it under 2000" in client.get(response.location).text
    with app.extensions["intake.store"].reading() as session:
        assert session.get(Submission, submission.id).status == "new"


def test_pdf_download_streams_the_file_and_is_recorded(app, as_role, fake_pdf):
    submission = add_submission(app)
    response = as_role("physician").get(f"/staff/submissions/{submission.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and submission.reference.encode() in response.data
    assert f'filename="intake-{submission.reference}.pdf"' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "pdf_downloaded" in actions(app)


def test_a_pdf_that_cannot_be_made_says_what_to_do(app, as_role, fake_pdf):
    submission = add_submission(app)
    fake_pdf.failing.add(submission.id)
    client = as_role("physician")
    response = client.get(f"/staff/submissions/{submission.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "The PDF could not be made" in response.text and "Make a fresh PDF" in response.text
    assert "renderer down" not in response.text
    assert "pdf_downloaded" not in actions(app)


def test_rerender_schedules_a_fresh_pdf(app, as_role, fake_pdf):
    submission = add_submission(app)
    client = as_role("admin")
    response = post(client, f"/staff/submissions/{submission.id}/render")
    assert fake_pdf.scheduled == [submission.id]
    assert "A fresh PDF is being made" in client.get(response.location).text


def test_drafts_in_progress_are_listed_apart_without_patient_data(app, as_role):
    patient = Patient(app.test_client())
    patient.start()
    patient.post("about-you", PAGES["about-you"])
    page = as_role("staff").get("/staff/drafts").text
    assert "Your health" in page and "step 2 of" in page
    assert "Maria" not in page and "López" not in page
    assert "1 form in progress" in as_role("staff").get("/staff/").text


def test_an_unknown_submission_is_a_helpful_404(app, as_role):
    response = as_role("physician").get("/staff/submissions/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404 and "search for the patient from the dashboard" in response.text


def test_an_unexpected_failure_shows_a_reference_and_no_traceback(app, as_role, monkeypatch, caplog):
    client = as_role("staff")

    def broken(*args, **kwargs):
        message = "secret " + "patient detail"
        raise RuntimeError(message)

    monkeypatch.setattr(search, "page", broken)
    response = client.get("/staff/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text and "Traceback" not in response.text
    reference = re.search(r'<strong class="mono">([0-9A-F]{6})</strong>', response.text).group(1)
    assert reference in caplog.text and "secret patient detail" not in caplog.text


def test_search_order_counts_and_export_batches_agree_on_both_databases(any_app):
    add_submission(any_app, last_name="Past", visit=TODAY - dt.timedelta(days=1))
    add_submission(any_app, last_name="Later", visit=TODAY + dt.timedelta(days=5), flags=[STOP])
    add_submission(any_app, last_name="Today", visit=TODAY)
    add_submission(any_app, first_name="Ana", last_name="O'Hara_100%", visit_date=None)
    store = any_app.extensions["intake.store"]
    listed = search.page(store, search.Filters(), TODAY, limit=10)
    assert listed.total == 4 and [r.answers["last_name"] for r in listed.rows][:2] == ["Today", "Later"]
    found = search.page(store, search.Filters(q="o'hara_100%"), TODAY, limit=10)
    assert [r.answers["last_name"] for r in found.rows] == ["O'Hara_100%"]
    assert search.page(store, search.Filters(q="a_1"), TODAY, limit=10).total == 1  # LIKE wildcards are literal
    assert search.page(store, search.Filters(q="a%"), TODAY, limit=10).total == 0
    assert search.counts(store, TODAY) == {"today": 1, "upcoming": 1, "new": 4, "stop": 1}
    streamed = list(search.iter_rows(store, None, None, batch=1))
    assert len(streamed) == 4 and len({r.id for r in streamed}) == 4


def _fake_summary(monkeypatch, build):
    from intake import summary

    monkeypatch.setattr(summary, "build", build)


SUMMARY = {  # the shape intake.summary.build() returns (issue 3's contract)
    "flag_groups": [{"treatment": "neurotoxin", "title": "Neurotoxin", "flags": [STOP | {"message": XSS}]}],
    "allergies": {"listed": "Lidocaine or numbing creams", "other": ""},
    "neurotoxin": {"ever": True, "rows": [{"date": "2026-07-28", "weeks_ago": 17, "product": "Dysport", "areas": "Forehead",
                                           "units": 50, "onset_days": None, "weeks_lasted": 6, "satisfaction": "2",
                                           "side_effects": "Bruising"}],
                   "earlier": 0, "verdict": "Partly", "shortfall": {"text": "Back after six weeks.", "cut": False},
                   "weeks_since_last": 17, "trend": "", "brands": ""},
    "health": {"conditions": "Diabetes that is well controlled", "cancer_area": "", "skin": "none reported",
               "medications": "none reported", "other_medications": {"text": "Metformin 500 mg", "cut": False},
               "smoking": "I used to", "pregnancy": "None of these"},
    "concerns": {"concerns": "Fine lines", "acne_scar_type": "", "areas": "Around the eyes", "severity": "Quite a lot",
                 "goals": {"text": "Softer lines", "cut": False}, "reason": {"text": "", "cut": False}, "downtime": "",
                 "event": {"text": "", "cut": False}},
    "skin": {"type": "IV", "detail": "score 21/40; type IV = 21–27", "sun": "", "tanning_beds": "", "spf": "", "routine": ""},
    "sections": [{"title": "Your health", "items": [{"label": "Any other allergies", "text": "Penicillin (rash)"}]}],
    "signature": {"name": "Maria López", "date": "2026-11-25", "drawing": None},
}


def test_the_detail_page_renders_the_physician_summary_as_html(app, as_role, monkeypatch):
    built = []
    _fake_summary(monkeypatch, lambda submission, q, **kwargs: built.append(submission.id) or SUMMARY)
    submission = add_submission(app)
    page = as_role("physician").get(f"/staff/submissions/{submission.id}").text
    assert built == [submission.id]
    assert page.index("Screening flags") < page.index("Allergies") < page.index(">Health<") < page.index("Neurotoxin history") \
        < page.index("Concerns and goals") < page.index("Skin type") < page.index("Every answer")
    assert "Diabetes that is well controlled" in page and "“Metformin 500 mg”" in page and "I used to" in page
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    assert "Lidocaine or numbing creams" in page and "<strong>17</strong> weeks since the last treatment" in page
    assert "Type IV (score 21/40; type IV = 21–27)" in page and "patient-estimated; physician to confirm" in page
    assert "Penicillin (rash)" in page and "Levothyroxine" not in page  # every answer comes from the summary too


def test_allergies_are_always_shown(app, as_role, monkeypatch):
    _fake_summary(monkeypatch, lambda *args, **kwargs: SUMMARY | {"allergies": {"listed": "", "other": ""}})
    submission = add_submission(app)
    page = as_role("physician").get(f"/staff/submissions/{submission.id}").text
    assert "Allergies</h2>\n  <p>None reported.</p>" in page


def test_the_real_summary_renders_when_it_is_there(app, as_role):
    pytest.importorskip("intake.summary")
    submission = add_submission(app)
    page = as_role("physician").get(f"/staff/submissions/{submission.id}")
    assert page.status_code == 200 and "Neurotoxin history" in page.text and "Every answer" in page.text


def test_a_summary_that_fails_to_build_still_leaves_every_answer(app, as_role, monkeypatch):
    _fake_summary(monkeypatch, lambda *args, **kwargs: 1 / 0)
    submission = add_submission(app)
    page = as_role("physician").get(f"/staff/submissions/{submission.id}")
    assert page.status_code == 200 and "Every answer" not in page.text and "Levothyroxine" in page.text


def test_the_record_history_shows_the_patients_submit_once(app, as_role):
    submission = add_submission(app)
    page = as_role("physician").get(f"/staff/submissions/{submission.id}").text
    history = page[page.index("Record history"):]
    assert history.count("Patient submitted the form") == 1 and "Submitted by the patient" not in history
def test_a_capped_total_never_reads_less_than_what_was_shown(app, as_role, monkeypatch):
    from intake.web import staff as staff_views

    monkeypatch.setattr(staff_views, "PAGE_SIZE", 2)
    monkeypatch.setattr(search, "LIST_CAP", 2)
    for n in range(7):
        add_submission(app, last_name=f"R{n}", visit=TODAY + dt.timedelta(days=n))
    client = as_role("staff")
    first = client.get("/staff/").text
    assert "Showing 1–2 of 2+" in first and "Page 1</span>" in first  # no "of N pages" when uncounted
    third = search_post(client, cursor=_cursors(search_post(client, cursor=_cursors(first)[1]).text)[1]).text
    assert "Showing 5–6 of 6+" in third
