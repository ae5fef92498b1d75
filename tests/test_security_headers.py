"""Headers and cookies: CSP without inline code, nosniff, referrer policy, no framing, no caching, safe cookies."""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

import re
import shutil

import pytest

from intake import auth
from tests.conftest import make_app
from tests.staff_support import add_submission, as_role, login, make_user, users  # noqa: F401

PAGES = ["/staff/", "/staff/drafts", "/staff/export", "/staff/admin/users", "/staff/admin/audit",
         "/staff/account/password", "/staff/submissions/{sid}", "/staff/kiosk/", "/staff/account/two-step"]


def _check_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("no-referrer", "same-origin", "strict-origin-when-cross-origin")


@pytest.mark.parametrize("path", ["/", "/privacy", "/staff/login", "/api/questionnaire", "/healthz", "/no-such-page"])
def test_public_responses_carry_the_security_headers(client, path):
    _check_headers(client.get(path))


def test_every_staff_page_carries_the_headers_is_never_cached_and_has_no_inline_code(app, as_role):
    submission = add_submission(app)
    client = as_role("admin")
    for path in PAGES:
        response = client.get(path.format(sid=submission.id))
        assert response.status_code == 200, path
        _check_headers(response)
        assert response.headers["Cache-Control"] == "no-store", path
        html = response.text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), f"inline script on {path}"
        assert "<style" not in html and not re.search(r"\sstyle=", html), f"inline style on {path}"
        assert not re.search(r"\son[a-z]+=", html), f"inline handler on {path}"


def test_exports_are_never_cached(app, as_role):
    add_submission(app)
    response = as_role("staff").get("/staff/export?format=csv")
    assert response.headers["Cache-Control"] == "no-store"


def test_the_staff_cookie_is_httponly_lax_and_scoped(app, client, users):
    response = login(client, users["staff"].email)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(auth.COOKIE))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/staff" in header
    assert "Expires" not in header and "Max-Age" not in header  # gone when the browser closes


@pytest.fixture
def production_app(tmp_path, migrated_sqlite):
    shutil.copy(migrated_sqlite, tmp_path / "prod.sqlite3")
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'prod.sqlite3'}", TESTING=False)
    yield app
    app.extensions["intake.store"].engine.dispose()


def test_cookies_are_secure_outside_debug(production_app):
    assert production_app.config["SESSION_COOKIE_SECURE"] is True
    assert production_app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert production_app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    make_user(production_app, "staff")
    client = production_app.test_client()
    response = login(client, "staff@clinic.test")
    cookies = response.headers.getlist("Set-Cookie")
    staff_cookie = next(h for h in cookies if h.startswith(auth.COOKIE))
    assert "Secure" in staff_cookie and "HttpOnly" in staff_cookie
    flask_cookie = [h for h in cookies if h.startswith(production_app.config["SESSION_COOKIE_NAME"])]
    assert all("Secure" in h and "HttpOnly" in h and "SameSite=Lax" in h for h in flask_cookie)


def test_the_session_cookie_holds_no_patient_data(app, as_role):
    add_submission(app)
    client = as_role("physician")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/").text).group(1)
    client.post("/staff/", data={"csrf_token": token, "q": "López"})
    jar = " ".join(c.value for c in client._cookies.values())
    assert "pez" not in jar.lower() and "maria" not in jar.lower()


def test_hsts_is_sent_outside_debug_and_testing(production_app):
    response = production_app.test_client().get("/", base_url="https://clinic.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_is_not_sent_in_testing_or_debug_unless_asked(app, tmp_path, migrated_sqlite):
    assert "Strict-Transport-Security" not in app.test_client().get("/").headers
    shutil.copy(migrated_sqlite, tmp_path / "debug.sqlite3")
    debug = make_app(tmp_path, f"sqlite:///{tmp_path / 'debug.sqlite3'}", TESTING=False, DEBUG=True)
    assert "Strict-Transport-Security" not in debug.test_client().get("/").headers
    asked = make_app(tmp_path, f"sqlite:///{tmp_path / 'debug.sqlite3'}", HSTS=True, HSTS_MAX_AGE=600,
                     HSTS_INCLUDE_SUBDOMAINS=True)
    assert asked.test_client().get("/staff/login").headers["Strict-Transport-Security"] == "max-age=600; includeSubDomains"
    for made in (debug, asked):
        made.extensions["intake.store"].engine.dispose()
