"""The physician's PDF: read back with pypdf, as the physician would read it."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from intake import answers as answers_mod
from intake import jobs, pdf, renders
from intake.models import RenderedPdf, Submission
from intake.store import submissions
from tests.test_forms import PNG_1X1
from tests.vignettes import HTML_PAYLOADS, VIGNETTES, healthy
from tests.walk import EXPECTED, PAGES, walk_to_consent


def store_submission(app, answers, token="t" * 30):
    with app.app_context():
        from intake import screening

        flags = screening.flag_dicts(answers, screening.dt.date.today())
        submission, _ = submissions.submit(app.extensions["intake.store"], submit_token=token,
                                           questionnaire_id="consultation", questionnaire_version="2026.11.1",
                                           answers=answers, flags=flags, rules_version=screening.RULES_VERSION)
        return submission


def pdf_text(path_or_bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(path_or_bytes if isinstance(path_or_bytes, Path) else __import__("io").BytesIO(path_or_bytes))
    text = "\n".join(page.extract_text() for page in reader.pages)
    text = re.sub(r"(?<=\w)-\n(?=\w)", "-", text)  # a line that wrapped after a hyphen ("micro-/needling")
    return re.sub(r"\s+", " ", text), reader


@pytest.fixture
def rich(app):
    answers = {**EXPECTED, "signature_drawing": PNG_1X1}
    submission = store_submission(app, answers)
    with app.app_context():
        data = renders.ensure_pdf(submission)
    text, reader = pdf_text(data)
    return submission, text, reader


def test_every_answer_is_in_the_pdf(app, rich):
    submission, text, _reader = rich
    q = app.extensions["intake.questionnaire"]
    for question in q.questions():
        value = EXPECTED.get(question.link_id)
        if value is None:
            continue
        if question.type == "group":
            for row in value:
                for item in question.items:
                    if item.link_id in row:
                        assert answers_mod.format_answer(item, row[item.link_id]) in text, item.link_id
        else:
            assert answers_mod.format_answer(question, value) in text, question.link_id


def test_every_flag_message_is_in_the_pdf(rich):
    submission, text, _reader = rich
    assert submission.flags, "the rich vignette raises flags"
    for flag in submission.flags:
        assert flag["message"] in text
        assert flag["severity"].upper() in text


def test_page_one_reads_in_the_physicians_order(rich):
    _submission, text, reader = rich
    first = re.sub(r"\s+", " ", reader.pages[0].extract_text())
    order = ["Maria López", "SCREENING", "ALLERGIES", "NEUROTOXIN HISTORY", "CONCERNS AND GOALS", "SKIN TYPE"]
    positions = [first.index(heading) for heading in order]
    assert positions == sorted(positions)
    assert "Lidocaine or numbing creams; other: “Penicillin (rash)”" in first
    assert "patient-estimated, physician to confirm" in first
    assert "Last treatment 18 weeks before the visit" in first or "weeks before the visit" in first
    assert "Full result? Partly" in first


def test_every_page_has_the_footer(rich):
    submission, _text, reader = rich
    pages = len(reader.pages)
    assert 2 <= pages <= 4
    for number, page in enumerate(reader.pages, 1):
        footer = re.sub(r"\s+", " ", page.extract_text())
        assert f"Page {number} of {pages}" in footer
        assert "Contains protected health information" in footer
        assert f"Ref {submission.reference}" in footer
        assert re.search(r"Generated \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", footer)


def test_metadata_grids_signature_and_versions(rich):
    submission, text, reader = rich
    assert reader.metadata.title == f"Intake summary {submission.reference}"
    for grid in ("Glogau photoaging", "Wrinkle severity", "Goodman-Baron", "Plan and notes"):
        assert grid in text
    assert "Signed by typing Maria López on" in text
    assert f"screening rules {submission.rules_version}" in text
    images = {image.data for page in reader.pages for image in page.images}
    assert len(images) == 1, "the drawn signature is embedded (once)"


def test_allergies_are_always_shown(app):
    submission = store_submission(app, healthy())
    with app.app_context():
        text, _ = pdf_text(pdf.render_summary(submission))
    assert "ALLERGIES None reported" in text
    assert "NONE No contraindications or cautions found" in text
    assert "No prior neurotoxin treatment." in text


@pytest.mark.parametrize("name", list(VIGNETTES))
def test_vignette_pdfs_carry_exactly_their_flags(app, name):
    answers, expected = VIGNETTES[name]
    submission = store_submission(app, answers)
    with app.app_context():
        text, _ = pdf_text(pdf.render_summary(submission))
    assert {f["rule_id"] for f in submission.flags} == expected
    for flag in submission.flags:
        assert flag["message"] in text
    counts = {s: sum(f["severity"] == s for f in submission.flags) for s in ("stop", "review", "note")}
    assert f"{counts['stop']} stop · {counts['review']} review · {counts['note']} note" in text


def test_typed_html_is_literal_text_embeds_nothing_and_fetches_nothing(app, monkeypatch):
    requested = []
    original = pdf.AssetsOnlyFetcher.fetch

    def spy(self, url, headers=None):
        requested.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(pdf.AssetsOnlyFetcher, "fetch", spy)
    answers, _ = VIGNETTES["html_in_every_box"]
    submission = store_submission(app, answers)
    with app.app_context():
        data = pdf.render_summary(submission)
    text, reader = pdf_text(data)
    for payload in HTML_PAYLOADS:
        assert payload in text
    assert requested == []
    assert "root:" not in text
    assert reader.attachments == {}
    assert b"/EmbeddedFile" not in data and b"/FileAttachment" not in data
    assert all("/Annots" not in page for page in reader.pages)


def test_the_fetcher_serves_only_package_assets():
    fetcher = pdf.AssetsOnlyFetcher()
    assert fetcher.fetch((pdf.ASSETS / "summary.css").as_uri()).read().startswith(b"/*")
    for url in ("file:///etc/passwd", "http://127.0.0.1:9/", "data:text/plain,hi",
                (pdf.ASSETS / ".." / "__init__.py").as_uri(), "intake-signature:drawn.png"):
        with pytest.raises(ValueError, match="blocked"):
            fetcher.fetch(url)


def test_a_pdf_is_rendered_once_and_cached_in_the_database(app, monkeypatch):
    submission = store_submission(app, healthy())
    calls = []
    original = pdf.Renderer.write
    monkeypatch.setattr(pdf.Renderer, "write", lambda self, *a: calls.append(1) or original(self, *a))
    with app.app_context():
        first = renders.ensure_pdf(submission)
        second = renders.ensure_pdf(submission)
        assert first == second and len(calls) == 1
        submission.answers = {**submission.answers, "goals": "Something else"}
        assert renders.ensure_pdf(submission) != first and len(calls) == 2
    store = app.extensions["intake.store"]
    with store.reading() as session:
        rows = session.query(RenderedPdf).all()
    assert len(rows) == 2 and {r.status for r in rows} == {"ok"} and all(r.size > 1000 for r in rows)
    assert not (Path(app.instance_path) / "pdf").exists(), "no PDF is written to the local disk"


def test_a_failed_render_keeps_the_answers_logs_no_patient_data_and_is_retried(app, monkeypatch, caplog):
    submission = store_submission(app, healthy(goals="Secret goal text"))
    original = pdf.Renderer.write

    def broken(self, html, signature=None):
        raise RuntimeError(html[:5000])  # the message carries patient data; it must not be logged

    monkeypatch.setattr(pdf.Renderer, "write", broken)
    with app.app_context(), pytest.raises(RuntimeError):
        renders.ensure_pdf(submission)
    with app.app_context(), pytest.raises(jobs.JobError, match="^RuntimeError$"):
        jobs.run_now(renders.render_pdf, submission.id)  # as a job: recorded and raised by class name only
    assert "Secret goal" not in caplog.text and "Grace" not in caplog.text
    assert "RuntimeError" in caplog.text
    store = app.extensions["intake.store"]
    assert submissions.get(store, submission.id).answers == submission.answers
    with store.reading() as session:
        row = session.query(RenderedPdf).one()
        assert (row.status, row.attempts, row.error) == ("failed", 2, "RuntimeError")
    monkeypatch.setattr(pdf.Renderer, "write", original)
    with app.app_context():
        assert renders.ensure_pdf(submission).startswith(b"%PDF")
    with store.reading() as session:
        assert session.query(RenderedPdf).one().status == "ok"


def test_flags_are_recomputed_when_rendered_again(app):
    submission = store_submission(app, healthy(pregnancy="pregnant"))
    store = app.extensions["intake.store"]
    submissions.update_flags(store, submission.id, [], "old-rules")
    stale = submissions.get(store, submission.id)
    with app.app_context():
        text, _ = pdf_text(pdf.render_summary(stale))
    fresh = submissions.get(store, submission.id)
    assert [f["rule_id"] for f in fresh.flags] == ["pregnancy"] and fresh.has_stop_flags
    assert "STOP Pregnant" in text


def test_submit_stores_flags_and_renders_the_pdf(app, patient):
    walk_to_consent(patient)
    patient.post("consent", PAGES["consent"])
    store = app.extensions["intake.store"]
    with store.reading() as session:
        [submission] = session.query(submissions.Submission).all()
        [row] = session.query(RenderedPdf).all()
    assert {f["rule_id"] for f in submission.flags} >= {"herpes_simplex", "suboptimal_result", "brand_switch"}
    assert (row.submission_id, row.status) == (submission.id, "ok")
    with app.app_context():
        assert "Maria" in pdf_text(renders.ensure_pdf(submission))[0]


def test_a_web_process_never_renders_it_enqueues(tmp_path, migrated_sqlite, monkeypatch):
    """With a real queue (SQLite, no worker running), a patient's submit claims the PDF in its own commit and only
    enqueues it; a double submit enqueues nothing more; a worker's run renders it."""
    import shutil

    from tests.conftest import Patient, hidden_fields, make_app

    shutil.copy(migrated_sqlite, tmp_path / "intake.sqlite3")
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'intake.sqlite3'}", JOBS_IMMEDIATE=False, PDF_WAIT_SECONDS=0.3)
    writes = []
    monkeypatch.setattr(pdf.Renderer, "write", lambda *a: writes.append(1) or b"%PDF-fake")
    patient = Patient(app.test_client())
    walk_to_consent(patient)
    form = {**hidden_fields(patient.client.get("/intake/consent").text), **PAGES["consent"], "action": "next"}
    with monkeypatch.context() as m:  # no claim in a transaction of its own: it rides on the submit's commit
        m.setattr(renders.pdfs, "claim", lambda *a, **k: pytest.fail("the PDF was claimed in a second commit"))
        assert patient.client.post("/intake/consent", data=form).status_code == 302
        assert patient.client.post("/intake/consent", data=form).status_code == 302  # the double tap
    huey = jobs.huey_for(app)
    assert [t.priority for t in huey.pending()] == [jobs.NORMAL], "enqueued once, not twice"
    store = app.extensions["intake.store"]
    with store.reading() as session:
        (submission,) = session.scalars(select(Submission)).all()
        (claim,) = session.scalars(select(RenderedPdf)).all()
    assert (claim.submission_id, claim.status) == (submission.id, "queued"), "claimed with the submission"
    with app.app_context():
        # Staff ask for it: once more, ahead of the queue; asking again adds nothing.
        assert renders.wait_for(submission)[0] is None and renders.wait_for(submission)[0] is None
    assert (tmp_path / "jobs.sqlite3").exists()
    assert sorted(t.priority for t in huey.pending()) == [jobs.NORMAL, jobs.HIGH] and writes == []
    with app.app_context():
        huey.execute(huey.dequeue())  # what a worker process does: the urgent one first
        assert writes == [1] and renders.wait_for(submission)[0] == b"%PDF-fake"
    store.engine.dispose()


def test_a_failed_enqueue_gives_the_claim_back_for_the_sweep(app, monkeypatch):
    """The queue is down at submit: the patient's submission stands, and the claim goes back to "pending"."""

    def queue_down(*args, **kwargs):
        raise ConnectionError("queue down")

    submission = store_submission(app, healthy())
    with app.app_context():
        store = app.extensions["intake.store"]
        with store.writing() as session:
            session.add(renders.claim_at_submit(submission))
        monkeypatch.setattr(jobs, "enqueue", queue_down)
        renders.submitted(submission)
        with store.reading() as session:
            assert session.scalars(select(RenderedPdf.status)).all() == ["pending"]


def test_render_pdf_command_stores_it_and_writes_a_copy(app, tmp_path):
    submission = store_submission(app, healthy())
    target = tmp_path / "copy.pdf"
    result = app.test_cli_runner().invoke(args=["render-pdf", submission.reference, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "stored in the database" in result.output
    assert "Grace Okafor" in pdf_text(target.read_bytes())[0]
    missing = app.test_cli_runner().invoke(args=["render-pdf", "NOPE"])
    assert missing.exit_code != 0 and "No submission" in missing.output


def test_page_and_time_limits_stop_a_render_and_keep_the_submission(tmp_path, migrated_sqlite):
    import shutil

    from tests.conftest import make_app

    shutil.copy(migrated_sqlite, tmp_path / "intake.sqlite3")
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'intake.sqlite3'}", PDF_MAX_PAGES=1)
    submission = store_submission(app, healthy())
    store = app.extensions["intake.store"]
    with app.app_context():
        renders.render_pdf(submission.id)
    with store.reading() as session:
        row = session.query(RenderedPdf).one()
    assert (row.status, row.error, row.attempts) == ("failed", "PageLimitExceeded", renders.MAX_ATTEMPTS)
    assert submissions.get(store, submission.id).answers == submission.answers
    app.config.update(PDF_MAX_PAGES=40, PDF_RENDER_TIMEOUT=0.001)
    with app.app_context():
        renders.fresh(submission)
    with store.reading() as session:
        row = session.query(RenderedPdf).one()
    assert (row.status, row.error) == ("failed", "RenderTimeout")
    store.engine.dispose()


def test_a_time_limit_that_goes_off_inside_a_database_read_still_fails_the_render_for_good(app, monkeypatch):
    """The alarm may interrupt a query the render makes (photos, keys): SQLAlchemy wraps it, the limit still holds."""
    from sqlalchemy.exc import StatementError

    submission = store_submission(app, healthy())

    def interrupted_read(_submission):
        raise StatementError("(in a read)", "SELECT content FROM photos", {}, renders.RenderTimeout())

    monkeypatch.setattr(pdf, "render_summary", interrupted_read)
    with app.app_context():
        renders.render_pdf(submission.id)  # no exception: a limit is final, not a retry
    with app.extensions["intake.store"].reading() as session:
        row = session.query(RenderedPdf).one()
    assert (row.status, row.error, row.attempts) == ("failed", "RenderTimeout", renders.MAX_ATTEMPTS)


def test_page_size_comes_from_config(tmp_path, migrated_sqlite):
    import shutil

    from tests.conftest import make_app

    shutil.copy(migrated_sqlite, tmp_path / "intake.sqlite3")
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'intake.sqlite3'}", PDF_PAGE_SIZE="A4")
    submission = store_submission(app, healthy())
    with app.app_context():
        _, reader = pdf_text(pdf.render_summary(submission))
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points (Letter is 612 x 792)
    app.extensions["intake.store"].engine.dispose()


def test_fast_font_subsetting_is_in_use_and_its_absence_is_loud(app, monkeypatch, caplog):
    assert pdf.fast_subsetting(), "libharfbuzz-subset0 is installed by the Makefile"
    monkeypatch.setattr(pdf, "fast_subsetting", lambda: False)
    with caplog.at_level(logging.WARNING):
        pdf.init_app(app)
    assert "NOT using libharfbuzz-subset" in caplog.text


def test_nothing_listens_in_vain_on_127_0_0_1_port_9(app):
    """The @import payload names http://127.0.0.1:9/: a listener there must see no connection."""
    import socket

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", 9))
    except PermissionError:
        pytest.skip("binding port 9 needs root (CI runs as root)")
    listener.listen(1)
    listener.settimeout(0.5)
    try:
        submission = store_submission(app, VIGNETTES["html_in_every_box"][0])
        with app.app_context():
            pdf.render_summary(submission)
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
