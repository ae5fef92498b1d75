"""Exports: CSV columns from the definition, formula guard, NDJSON, a valid FHIR Bundle, a ZIP of PDFs, the CLI."""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import update

from intake import export, questionnaire
from intake.models import Submission
from intake.store import search
from tests.staff_support import actions, add_submission, as_role, audit_rows, fake_pdf, users  # noqa: F401
from tests.walk import EXPECTED

Q = questionnaire.load()
STOP = {"rule_id": "pregnancy", "severity": "stop", "treatment": "both", "message": "Pregnant", "source": "pregnancy"}


def _csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def _header(response) -> list[str]:
    return next(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def _set_submitted(app, submission, when: dt.datetime):
    with app.extensions["intake.store"].writing() as session:
        session.execute(update(Submission).where(Submission.id == submission.id).values(submitted_at=when))


def test_csv_has_one_column_per_link_id_in_questionnaire_order(app, as_role):
    add_submission(app)
    header = _header(as_role("physician").get("/staff/export?format=csv"))
    assert header[:len(export.META_COLUMNS)] == list(export.META_COLUMNS)
    answers = header[len(export.META_COLUMNS):]
    assert len(answers) == len(set(answers))
    expected = []
    for question in Q.questions():
        if question.type == "zone-map":  # one column per zone, listing its concerns
            expected.extend(f"{question.link_id}_{zone.code}" for zone in question.zones)
            continue
        if question.type != "group":
            expected.append(question.link_id)
            continue
        for n in range(1, question.max_repeats + 1):
            expected.extend(f"{question.link_id}_{n}_{item.link_id.removeprefix(question.link_id + '_')}"
                            for item in question.items)
    assert answers == expected
    assert "neurotoxin_1_product" in answers and f"neurotoxin_{Q.by_id['neurotoxin'].max_repeats}_areas" in answers


def test_csv_cells_join_multi_choice_flatten_repeats_and_list_flags(app, as_role):
    add_submission(app, flags=[STOP])
    (row,) = _csv(as_role("physician").get("/staff/export?format=csv"))
    assert row["medications"] == "nsaid_supplement; topical_retinoid"
    assert row["neurotoxin_1_product"] == "abobotulinumtoxinA"
    assert row["neurotoxin_1_areas"] == "forehead; crows_feet"
    assert row["neurotoxin_2_onset_days"] == "5"
    assert row["neurotoxin_3_product"] == ""
    assert row["neurotoxin_ever"] == "yes" and row["photo_consent_marketing"] == "no"
    assert row["first_name"] == "Maria" and row["last_name"] == "López"
    assert row["flags"] == "stop: pregnancy" and row["has_stop_flags"] == "yes"
    assert row["status"] == "new"


@pytest.mark.parametrize("payload", ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_csv_defuses_formula_injection(app, as_role, payload):
    add_submission(app, other_medications=payload, goals="Plain text stays as is")
    (row,) = _csv(as_role("physician").get("/staff/export?format=csv"))
    assert row["other_medications"] == "'" + payload
    assert row["goals"] == "Plain text stays as is"


@pytest.mark.parametrize("phone", ["+1 617 555 0134", "+44 (20) 7946-0958", "+33.1.23.45.67.89"])
def test_an_international_phone_number_is_exported_as_typed(app, as_role, phone):
    add_submission(app, phone=phone, emergency_contact_phone=phone)
    (row,) = _csv(as_role("physician").get("/staff/export?format=csv"))
    assert row["phone"] == phone and row["emergency_contact_phone"] == phone


@pytest.mark.parametrize("payload", ["+1+2", "+1 617 555 0134+cmd|' /C calc'!A0", "+HYPERLINK(\"http://x\")", "+1e3*2",
                                     "+1 (617) SUM(A1)"])
def test_a_formula_that_starts_like_a_phone_number_is_still_defused(app, as_role, payload):
    add_submission(app, phone=payload, other_medications=payload)
    (row,) = _csv(as_role("physician").get("/staff/export?format=csv"))
    assert row["phone"] == "'" + payload and row["other_medications"] == "'" + payload


def test_csv_responses_name_their_charset_once(app, as_role):
    add_submission(app)
    response = as_role("physician").get("/staff/export?format=csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_exports_cover_the_date_range_in_clinic_days(app, as_role):
    inside = add_submission(app, last_name="Inside")
    before = add_submission(app, last_name="Before")
    after = add_submission(app, last_name="After")
    _set_submitted(app, inside, dt.datetime(2026, 3, 10, 23, 59, tzinfo=dt.UTC))
    _set_submitted(app, before, dt.datetime(2026, 3, 1, 23, 59, tzinfo=dt.UTC))
    _set_submitted(app, after, dt.datetime(2026, 3, 11, 0, 0, tzinfo=dt.UTC))
    response = as_role("physician").get("/staff/export?format=csv&from=2026-03-02&to=2026-03-10")
    assert [r["last_name"] for r in _csv(response)] == ["Inside"]
    assert response.headers["X-Export-Count"] == "1"
    assert 'filename="intake-csv-2026-03-02-to-2026-03-10.csv"' in response.headers["Content-Disposition"]


@pytest.mark.parametrize(("query", "message"), [
    ("format=xls", "Choose a format"),
    ("format=csv&from=2026-13-01", "should look like 2026-01-31"),
    ("format=csv&from=2026-03-10&to=2026-03-01", "after the “to” date"),
])
def test_a_bad_export_request_says_how_to_fix_it(app, as_role, query, message):
    response = as_role("physician").get(f"/staff/export?{query}")
    assert response.status_code == 400 and message in response.text


def test_ndjson_is_one_record_per_line(app, as_role):
    first, second = add_submission(app), add_submission(app, flags=[STOP])
    response = as_role("physician").get("/staff/export?format=ndjson")
    lines = response.data.decode("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["submission_id"] for r in records] == [first.id, second.id]
    assert records[0]["answers"] == EXPECTED and records[1]["flags"] == [STOP]


def test_fhir_bundle_validates_with_fhir_resources(app, as_role):
    add_submission(app)
    add_submission(app, neurotoxin_ever=False, neurotoxin=None)
    response = as_role("physician").get("/staff/export?format=fhir")
    assert response.mimetype == "application/fhir+json"
    bundle = Bundle.model_validate_json(response.data)
    assert bundle.type == "collection" and len(bundle.entry) == 2
    resource = bundle.entry[0].resource
    assert resource.__resource_type__ == "QuestionnaireResponse" and resource.status == "completed"
    items = {i.linkId: i for section in resource.item for i in section.item}
    assert [a.valueCoding.code for a in items["medications"].answer] == ["nsaid_supplement", "topical_retinoid"]
    assert items["date_of_birth"].answer[0].valueDate.isoformat() == "1986-04-12"
    assert items["neurotoxin_ever"].answer[0].valueBoolean is True
    treatments = [section for section in resource.item if section.linkId == "section-neurotoxin"][0].item
    assert [t.linkId for t in treatments].count("neurotoxin") == 2  # a repeating group repeats its item


def test_a_questionnaire_response_says_whose_it_is_when_and_to_which_questionnaire(app, as_role):
    submission = add_submission(app)
    bundle = Bundle.model_validate_json(as_role("physician").get("/staff/export?format=fhir").data)
    response = bundle.entry[0].resource
    assert response.questionnaire == f"https://intake.example.org/fhir/Questionnaire/consultation|{submission.questionnaire_version}"
    assert response.authored.isoformat().startswith(submission.submitted_at.date().isoformat())
    assert response.subject.reference == "#patient"
    (patient,) = response.contained
    assert patient.__resource_type__ == "Patient" and patient.id == "patient"
    official, usual = patient.name
    assert (official.family, official.given, usual.given) == ("López", ["Maria"], ["Mari"])
    assert patient.birthDate.isoformat() == "1986-04-12"
    telecom = {(t.system, t.value): t.rank for t in patient.telecom}
    assert telecom == {("sms", "+1 555 201 3344"): 1, ("phone", "+1 555 201 3344"): 2, ("email", "maria.lopez@example.com"): 2}
    (contact,) = patient.contact
    assert contact.name.text == "Jorge López" and contact.telecom[0].value == "555 201 9988"
    assert contact.relationship[0].coding[0].code == "C"  # emergency contact (HL7 v2-0131)


def test_every_response_item_is_an_item_of_the_questionnaire_at_the_same_place(app, as_role):
    add_submission(app)
    definition = as_role("physician").get("/api/questionnaire").json
    parents = {}

    def index(items, parent):
        for item in items:
            parents[item["linkId"]] = parent
            index(item.get("item", []), item["linkId"])

    index(definition["item"], None)
    response = json.loads(as_role("physician").get("/staff/export?format=fhir").data)["entry"][0]["resource"]

    def check(items, parent):
        for item in items:
            assert parents.get(item["linkId"], "missing") == parent, item["linkId"]
            check(item.get("item", []), item["linkId"])

    check(response["item"], None)


def test_the_canonical_url_comes_from_the_configured_base(tmp_path, migrated_sqlite):
    import shutil

    from tests.conftest import make_app

    shutil.copy(migrated_sqlite, tmp_path / "intake.sqlite3")
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'intake.sqlite3'}", FHIR_BASE_URL="https://fhir.harbour.example/r4/")
    try:
        assert app.test_client().get("/api/questionnaire").json["url"] == \
            "https://fhir.harbour.example/r4/Questionnaire/consultation"
        with app.test_request_context():
            row = add_submission(app)
            assert export.questionnaire_response(row, Q)["questionnaire"].startswith(
                "https://fhir.harbour.example/r4/Questionnaire/consultation|")
    finally:
        app.extensions["intake.store"].engine.dispose()


@pytest.mark.parametrize("base", ["urn:intake:questionnaire", "ftp://example.org/fhir", "intake.example.org", ""])
def test_a_canonical_base_that_is_not_an_http_url_stops_start_up(tmp_path, base):
    from intake import create_app

    with pytest.raises(ValueError, match="FHIR_BASE_URL must be an absolute http"):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "FHIR_BASE_URL": base})


def test_pdf_zip_holds_one_pdf_per_submission_an_index_and_a_note_for_failures(app, as_role, fake_pdf):
    ok, broken = add_submission(app), add_submission(app)
    fake_pdf.failing.add(broken.id)
    client = as_role("physician")
    response = client.get("/staff/export?format=pdf-zip")
    assert response.status_code == 302 and "/staff/exports/" in response.location  # a ZIP is always a job
    page = client.get(response.location)
    assert "Your export is ready" in page.text and "2 submissions" in page.text
    response = client.get(response.location + "/download")
    assert response.headers["Content-Length"] == str(len(response.data))
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert f"intake-{ok.reference}.pdf" in names and f"intake-{broken.reference}-NOT-RENDERED.txt" in names
    assert archive.read(f"intake-{ok.reference}.pdf").startswith(b"%PDF")
    index = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode("utf-8-sig"))))
    assert [r["reference"] for r in index] == [ok.reference, broken.reference]
    assert archive.testzip() is None


def test_every_export_is_streamed(app, as_role):
    add_submission(app)
    client = as_role("physician")
    for fmt in export.FORMATS:
        if fmt != "pdf-zip":
            assert client.get(f"/staff/export?format={fmt}").is_streamed


def test_rows_are_read_a_batch_at_a_time_in_keyset_order(app, monkeypatch):
    made = [add_submission(app, last_name=f"N{n}") for n in range(7)]
    store = app.extensions["intake.store"]
    reads = []
    real = store.reading

    def counting():
        reads.append(1)
        return real()

    monkeypatch.setattr(store, "reading", counting)
    rows = list(search.iter_rows(store, None, None, batch=3))
    assert [r.id for r in rows] == [m.id for m in sorted(made, key=lambda s: (s.submitted_at, s.id))]
    assert len(reads) == 4  # 3 + 3 + 1, then an empty read ends it


def test_csv_generator_holds_no_more_than_one_chunk(app):
    rows = iter(())
    chunks = list(export.stream_csv(rows, Q))
    assert len(chunks) == 1 and chunks[0].startswith("\ufeffreference".encode())


def test_the_export_command_writes_a_readable_file_on_request_and_is_audited(app, runner, tmp_path):
    for _ in range(3):
        add_submission(app)
    target = tmp_path / "out.csv"
    result = runner.invoke(args=["export", "--format", "csv", "--plaintext", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "Wrote 3 submission(s)" in result.output
    assert len(list(csv.DictReader(io.StringIO(target.read_text("utf-8-sig"))))) == 3
    assert target.stat().st_mode & 0o777 == 0o600
    (event,) = [r for r in audit_rows(app) if r.action == "export"]
    assert event.detail == {"format": "csv", "from": "", "to": "", "count": 3, "via": "cli", "plaintext": True}
    assert event.actor_email == "cli"


def test_the_export_command_encrypts_by_default_and_decrypt_file_reads_it_back(app, runner, tmp_path):
    add_submission(app, email="sealed.export@example.com")
    result = runner.invoke(args=["export", "--format", "ndjson"])
    assert result.exit_code == 0, result.output
    [sealed] = (tmp_path / "exports").glob("intake-ndjson-*.ndjson.enc")
    raw = sealed.read_bytes()
    assert b"sealed.export" not in raw and b"Maria" not in raw and sealed.stat().st_mode & 0o777 == 0o600
    readable = tmp_path / "readable.ndjson"
    result = runner.invoke(args=["decrypt-file", str(sealed), "-o", str(readable)])
    assert result.exit_code == 0, result.output
    assert json.loads(readable.read_text())["answers"]["email"] == "sealed.export@example.com"
    assert [r.detail for r in audit_rows(app) if r.action == "file_decrypted"] == [{"kind": "export"}]
    sealed.write_bytes(raw[:-1])  # cut short by one byte: refused, nothing written
    result = runner.invoke(args=["decrypt-file", str(sealed), "-o", str(tmp_path / "cut.ndjson")])
    assert result.exit_code != 0 and "cut short" in result.output and not (tmp_path / "cut.ndjson").exists()


def test_the_export_command_wants_a_path_for_a_readable_file(runner):
    result = runner.invoke(args=["export", "--format", "csv", "--plaintext"])
    assert result.exit_code != 0 and "--plaintext needs -o FILE" in result.output


def test_the_export_command_refuses_a_bad_date(runner, tmp_path):
    result = runner.invoke(args=["export", "--format", "csv", "--from", "yesterday", "-o", str(tmp_path / "x")])
    assert result.exit_code != 0 and "2026-01-31" in result.output


def test_a_web_export_is_recorded_with_its_count_before_it_streams(app, users, as_role):
    add_submission(app)
    add_submission(app)
    as_role("physician").get("/staff/export?format=ndjson&from=2000-01-01")
    (event,) = [r for r in audit_rows(app) if r.action == "export"]
    assert event.detail == {"format": "ndjson", "from": "2000-01-01", "to": "", "count": 2}
    assert event.actor_id == users["physician"].id


# --- minimum necessary: the front desk's contact list --------------------------------------------------------------

MEDICAL_ANSWERS = ("Levothyroxine", "Penicillin", "lidocaine", "cold_sores", "topical_retinoid", "abobotulinumtoxinA",
                   "1986-04-12", "Pregnant", "pregnancy", "acne_scars", "Softer lines")


def test_the_front_desk_export_has_administrative_columns_only(app, as_role):
    add_submission(app, flags=[STOP, {**STOP, "severity": "review", "rule_id": "retinoid"},
                               {**STOP, "severity": "review", "rule_id": "x"}])
    response = as_role("staff").get("/staff/export?format=contacts")
    assert response.status_code == 200
    assert _header(response) == ["reference", "first_name", "last_name", "preferred_name", "phone", "email",
                                 "preferred_contact", "visit_date", "status", "flags_stop", "flags_review", "flags_note"]
    (row,) = _csv(response)
    assert row["first_name"] == "Maria" and row["last_name"] == "López" and row["email"] == "maria.lopez@example.com"
    assert row["phone"] == "+1 555 201 3344"  # a phone number is kept as typed (the formula guard knows its shape)
    assert (row["flags_stop"], row["flags_review"], row["flags_note"]) == ("1", "2", "0")
    assert row["status"] == "new" and row["visit_date"] == EXPECTED["visit_date"]
    body = response.data.decode("utf-8-sig")
    for medical in MEDICAL_ANSWERS:
        assert medical not in body, medical


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "fhir", "pdf-zip"])
def test_the_front_desk_cannot_take_a_clinical_export_by_url(app, as_role, fake_pdf, fmt):
    add_submission(app)
    response = as_role("staff").get(f"/staff/export?format={fmt}")
    assert response.status_code == 403
    assert "Levothyroxine" not in response.text and "%PDF" not in response.text
    assert "Not available to your role" in response.text


def test_the_export_page_offers_each_role_only_what_it_may_take(app, as_role):
    desk = as_role("staff").get("/staff/export").text
    assert 'value="contacts"' in desk
    for fmt in ("csv", "ndjson", "fhir", "pdf-zip"):
        assert f'value="{fmt}"' not in desk
    for role in ("physician", "admin"):
        page = as_role(role).get("/staff/export").text
        assert all(f'value="{fmt}"' in page for fmt in export.FORMATS)


def test_every_format_has_a_permission_and_only_contacts_is_for_the_front_desk():
    from intake import auth

    assert set(export.FORMAT_PERMISSIONS) == set(export.FORMATS)
    desk = [f for f in export.FORMATS if export.may_export(f, lambda p: p in auth.PERMISSIONS["staff"])]
    assert desk == ["contacts"]
    assert not export.may_export("xls", lambda p: True)
