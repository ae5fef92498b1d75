"""CSRF on every POST, security headers on every response."""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from . import redact

csrf = CSRFProtect()

CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PUBLIC_NO_STORE_EXEMPT = ("static",)
HSTS_MAX_AGE = 365 * 24 * 3600  # one year: the usual value, and what browsers' preload lists ask for


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.endpoint not in PUBLIC_NO_STORE_EXEMPT:
        # Patient answers and staff views must never sit in a shared cache.
        response.headers["Cache-Control"] = "no-store"
    if hsts := current_app.config.get("HSTS_HEADER"):
        response.headers.setdefault("Strict-Transport-Security", hsts)
    return response


def hsts_header(app: Flask) -> str:
    """Strict-Transport-Security outside debug and testing (HSTS = True or False in config decides otherwise).

    Subdomains are left out unless HSTS_INCLUDE_SUBDOMAINS: a clinic's other sites may not all have TLS.
    """
    wanted = app.config.get("HSTS")
    if wanted is None:
        wanted = not (app.debug or app.testing)
    if not wanted:
        return ""
    header = f"max-age={int(app.config.get('HSTS_MAX_AGE', HSTS_MAX_AGE))}"
    return header + ("; includeSubDomains" if app.config.get("HSTS_INCLUDE_SUBDOMAINS") else "")


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.config["HSTS_HEADER"] = hsts_header(app)
    app.after_request(_headers)
    redact.install()
    if proxies := int(app.config.get("TRUSTED_PROXIES", 0)):
        # Behind a TLS-terminating proxy: take the client IP (audit rows) and scheme from its headers.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
