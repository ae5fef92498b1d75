"""Every /staff route is checked: anonymous people are sent to sign in, and each role sees only its share."""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from intake import appointments
from intake.models import utcnow
from intake.store import jobs as jobs_store
from tests.photo_support import add_submission_photo
from tests.staff_support import add_submission, as_role, csrf, fake_pdf, users  # noqa: F401

PUBLIC_PREFIXES = ("patient.", "api.")
PUBLIC = {"static", "staff.login", "staff.mfa.code"}


def _public(endpoint: str) -> bool:
    return endpoint in PUBLIC or endpoint.startswith(PUBLIC_PREFIXES)


def _url(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        values[name] = 1 if type(converter).__name__ == "IntegerConverter" else uuid.uuid4()
    return rule.build(values)[1]


def test_anonymous_requests_to_any_non_public_endpoint_are_sent_to_sign_in(app):
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if _public(rule.endpoint):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_url(rule), method=method)
            assert response.status_code == 302, f"{method} {rule} answered {response.status_code}"
            assert response.location.startswith("/staff/login"), f"{method} {rule} went to {response.location}"
            checked += 1
    assert checked >= 15


def test_the_walk_also_holds_with_csrf_switched_off(tmp_path, migrated_sqlite):
    """Without CSRF in the way, the sign-in check alone must refuse every POST."""
    import shutil

    from tests.conftest import make_app

    shutil.copy(migrated_sqlite, tmp_path / "db.sqlite3")
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}", WTF_CSRF_ENABLED=False)
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        if not _public(rule.endpoint) and "POST" in rule.methods:
            response = client.post(_url(rule))
            assert response.status_code == 302 and response.location.startswith("/staff/login"), rule
    app.extensions["intake.store"].engine.dispose()


OK, DENIED = "ok", "denied"
S, P, A = "staff", "physician", "admin"
# (endpoint, method, path template, form data) -> which roles may use it.
MATRIX = [
    ("staff.dashboard", "GET", "/staff/", None, {S, P, A}),
    ("staff.dashboard", "POST", "/staff/", {"q": "lopez"}, {S, P, A}),
    ("staff.draft_list", "GET", "/staff/drafts", None, {S, P, A}),
    ("staff.export_view", "GET", "/staff/export", None, {S, P, A}),
    # Minimum necessary: every export format, by role (export.FORMAT_PERMISSIONS).
    ("staff.export_view", "GET", "/staff/export?format=contacts", None, {S, P, A}),
    ("staff.export_view", "GET", "/staff/export?format=csv", None, {P, A}),
    ("staff.export_view", "GET", "/staff/export?format=ndjson", None, {P, A}),
    ("staff.export_view", "GET", "/staff/export?format=fhir", None, {P, A}),
    ("staff.export_view", "GET", "/staff/export?format=pdf-zip", None, {P, A}),
    ("staff.change_password", "GET", "/staff/account/password", None, {S, P, A}),
    ("staff.change_password", "POST", "/staff/account/password", {}, {S, P, A}),
    ("staff.logout", "POST", "/staff/logout", {}, {S, P, A}),
    ("staff.detail", "GET", "/staff/submissions/{sid}", None, {P, A}),
    ("staff.pdf", "GET", "/staff/submissions/{sid}.pdf", None, {P, A}),
    ("staff.photos.photo", "GET", "/staff/submissions/{sid}/photos/{pid}.jpg", None, {P, A}),
    ("staff.rerender", "POST", "/staff/submissions/{sid}/render", {}, {P, A}),
    ("staff.review", "POST", "/staff/submissions/{sid}/review", {"note": "ok"}, {P, A}),
    ("staff.admin.users", "GET", "/staff/admin/users", None, {A}),
    ("staff.admin.add_user", "POST", "/staff/admin/users", {"email": "new@clinic.test", "role": "staff"}, {A}),
    ("staff.admin.set_active", "POST", "/staff/admin/users/{uid}/active", {"active": "1"}, {A}),
    ("staff.admin.set_role", "POST", "/staff/admin/users/{uid}/role", {"role": "staff"}, {A}),
    ("staff.admin.reset_password", "POST", "/staff/admin/users/{uid}/reset-password", {}, {A}),
    ("staff.admin.audit_trail", "GET", "/staff/admin/audit", None, {A}),
    ("staff.admin.verify_audit", "POST", "/staff/admin/audit/verify", {}, {A}),
    ("staff.erasure.erase", "GET", "/staff/submissions/{sid}/erase", None, {A}),
    ("staff.erasure.erase", "POST", "/staff/submissions/{sid}/erase", {"reason": "duplicate", "confirm": "wrong"}, {A}),
    ("staff.protection.overview", "GET", "/staff/admin/data-protection", None, {A}),
    ("staff.mfa.setup", "GET", "/staff/account/two-step", None, {S, P, A}),
    ("staff.mfa.confirm", "POST", "/staff/account/two-step", {"code": "000000"}, {S, P, A}),
    ("staff.mfa.recovery_codes", "POST", "/staff/account/two-step/recovery-codes", {}, {S, P, A}),
    ("staff.mfa.reset", "POST", "/staff/admin/users/{uid}/reset-two-step", {}, {A}),
    ("staff.mfa.require", "POST", "/staff/admin/require-two-step", {"required": "0"}, {A}),
    ("staff.kiosk.index", "GET", "/staff/kiosk/", None, {S, P, A}),
    ("staff.kiosk.revoke", "POST", "/staff/kiosk/1/revoke", {}, {A}),
    # Last: starting kiosk mode signs this browser out of the workspace.
    ("staff.kiosk.start", "POST", "/staff/kiosk/start", {"name": "Waiting room"}, {S, P, A}),
    ("staff.exports.progress", "GET", "/staff/exports/{eid}", None, {S, P, A}),
    ("staff.exports.download", "GET", "/staff/exports/{eid}/download", None, {S, P, A}),
    ("staff.jobs.failed", "GET", "/staff/admin/jobs/", None, {A}),
    ("staff.jobs.retry", "POST", "/staff/admin/jobs/{fid}/retry", {}, {A}),
    ("staff.appointments.index", "GET", "/staff/appointments/", None, {S, P, A}),
    ("staff.appointments.new", "GET", "/staff/appointments/new", None, {S, P, A}),
    ("staff.appointments.new", "POST", "/staff/appointments/new", {"name": "Ana"}, {S, P, A}),
    ("staff.appointments.import_csv", "GET", "/staff/appointments/import", None, {S, P, A}),
    ("staff.appointments.import_csv", "POST", "/staff/appointments/import", {}, {S, P, A}),
    ("staff.appointments.send", "POST", "/staff/appointments/{aid}/send", {}, {S, P, A}),
    ("staff.appointments.link", "POST", "/staff/appointments/{aid}/link", {}, {S, P, A}),
    ("staff.appointments.edit", "GET", "/staff/appointments/{aid}/edit", None, {S, P, A}),
    ("staff.appointments.edit", "POST", "/staff/appointments/{aid}/edit", {"name": "Ana"}, {S, P, A}),
    ("staff.appointments.cancel", "POST", "/staff/appointments/{aid}/cancel", {}, {S, P, A}),
    ("staff.appointments.restore", "POST", "/staff/appointments/{aid}/restore", {}, {S, P, A}),
]


def test_the_matrix_covers_every_staff_endpoint_and_method(app):
    routed = {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint.startswith("staff.")
              and rule.endpoint not in PUBLIC for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == {(endpoint, method) for endpoint, method, *_ in MATRIX}


@pytest.mark.parametrize("role", [S, P, A])
@pytest.mark.parametrize(("endpoint", "method", "path", "data", "allowed"), MATRIX, ids=[f"{m} {e}" for e, m, *_ in MATRIX])
def test_role_endpoint_matrix(app, users, as_role, fake_pdf, role, endpoint, method, path, data, allowed):
    submission = add_submission(app)
    client = as_role(role)
    export_id = ""
    if "{eid}" in path:  # a prepared export of this person's own: the contact list, which every role may take
        app.config["EXPORT_STREAM_MAX_ROWS"] = 0  # so even one row is prepared as a job
        export_id = client.get("/staff/export?format=contacts").location.rsplit("/", 1)[-1]
    failure_id = 0
    if "{fid}" in path:
        with app.app_context():
            jobs_store.record_failure(app.extensions["intake.store"], "intake.renders.render_pdf", [submission.id],
                                      "RuntimeError")
            failure_id = jobs_store.open_failures(app.extensions["intake.store"])[0].id
    photo_id = add_submission_photo(app, submission.id) if "{pid}" in path else 0
    appointment_id = 0
    if "{aid}" in path:
        with app.app_context():
            appointment_id = appointments.create(
                app.extensions["intake.store"], patient_name="Ana García", email="ana@example.org",
                visit_at=utcnow() + dt.timedelta(days=1), treatments="consultation").id
    url = path.format(sid=submission.id, uid=users[S].id, eid=export_id, fid=failure_id, pid=photo_id, aid=appointment_id)
    if method == "GET":
        response = client.get(url)
    else:
        token = csrf(client.get("/staff/account/password").text)
        response = client.post(url, data={"csrf_token": token, **data})
    if role in allowed:
        assert response.status_code in (200, 302, 422), response.status_code
        if response.status_code == 302:
            assert not response.location.startswith("/staff/login") or endpoint == "staff.logout"
    else:
        assert response.status_code == 403
        assert "Not available to your role" in response.text


def test_the_matrix_covers_every_export_format():
    from intake import export

    covered = {path.partition("format=")[2] for endpoint, _m, path, *_ in MATRIX if endpoint == "staff.export_view"}
    assert set(export.FORMATS) <= covered


def test_a_staff_view_that_declares_no_permission_is_refused_to_everyone(app, users, as_role, monkeypatch):
    monkeypatch.delattr(app.view_functions["staff.draft_list"], "permission")
    assert as_role(A).get("/staff/drafts").status_code == 403


def test_front_desk_sees_names_but_no_link_into_the_record(app, users, as_role):
    submission = add_submission(app)
    page = as_role(S).get("/staff/").text
    assert "López, Maria (Mari)" in page and f"/staff/submissions/{submission.id}" not in page
    assert f"/staff/submissions/{submission.id}" in as_role(P).get("/staff/").text


def test_front_desk_pages_show_flag_counts_but_no_flag_text_or_answers(app, users, as_role):
    flags = [{"rule_id": "pregnancy", "severity": "stop", "treatment": "both", "message": "Pregnant or breastfeeding",
              "source": "x"}]
    add_submission(app, flags=flags, other_medications="Levothyroxine 50 mcg daily")
    client = as_role(S)
    client.get("/staff/")  # the dashboard, then a search, then the forms in progress
    token = csrf(client.get("/staff/").text)
    pages = [client.get("/staff/").text, client.post("/staff/", data={"csrf_token": token, "q": "lopez"}).text,
             client.get("/staff/drafts").text]
    assert "1 stop" in pages[0]
    for page in pages:
        for medical in ("Pregnant", "pregnancy", "Levothyroxine", "Penicillin", "lidocaine"):
            assert medical not in page
