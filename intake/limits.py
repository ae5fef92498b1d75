"""Rate limits per client address (Flask-Limiter): memory by default, Redis when REDIS_URL is set.

LIMITS below is the one place that says which endpoint is limited by which setting. Staff sign-in
counts failed attempts only, and is checked before the password: an address that is over its
limit gets a page saying so, and its attempts never reach (or lock) the account.

Exemptions are hookable: `limits.exempt_when(fn)` adds a function that returns True for requests
that must never be limited (for example a clinic's signed-in kiosk tablet).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, request
from flask_limiter import Limiter

DEFAULTS = {
    # A clinic's waiting room shares one address: generous for people, tight for scripts.
    "RATELIMIT_START": "30 per minute;300 per hour",
    "RATELIMIT_SUBMIT": "120 per minute;3000 per hour",
    "RATELIMIT_RESUME": "30 per minute;300 per hour",
    # Failed staff sign-ins per address (the whole clinic's staff behind one NAT address).
    "RATELIMIT_LOGIN": "40 per 15 minutes",
}


@dataclass(frozen=True)
class Rule:
    setting: str
    methods: tuple[str, ...] | None = None
    failures_only: bool = False  # count only responses with a 4xx status, like a wrong password


LIMITS = {
    "patient.begin": Rule("RATELIMIT_START"),
    "patient.section": Rule("RATELIMIT_SUBMIT", methods=("POST",)),
    "patient.resume": Rule("RATELIMIT_RESUME"),
    "patient.invitation": Rule("RATELIMIT_RESUME"),  # /i/<token>, a staff-issued invitation
    "staff.login": Rule("RATELIMIT_LOGIN", methods=("POST",), failures_only=True),
}

_EXEMPTIONS: list[Callable[[], bool]] = []


def exempt_when(check: Callable[[], bool]) -> Callable[[], bool]:
    """Register a function; a request for which any returns True is never rate limited."""
    if check not in _EXEMPTIONS:
        _EXEMPTIONS.append(check)
    return check


def client_address() -> str:
    """The client's address (behind TRUSTED_PROXIES, ProxyFix has put the real one here)."""
    return request.remote_addr or "unknown"


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def _failed(response) -> bool:
    return 400 <= response.status_code < 500


def init_app(app: Flask) -> None:
    """Make this app's limiter and apply LIMITS to the registered views (call after the blueprints)."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config.get("JOBS_NAME") or "intake")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter = Limiter(client_address, app=app)
    limiter.request_filter(lambda: any(check() for check in _EXEMPTIONS))
    for endpoint, rule in LIMITS.items():
        view = app.view_functions.get(endpoint)
        if view is None:
            continue
        # The wrapper checks the limit before the view runs (keeping the view's attributes, e.g. its permission).
        app.view_functions[endpoint] = limiter.limit(
            _setting(rule.setting), methods=list(rule.methods) if rule.methods else None,
            deduct_when=_failed if rule.failures_only else None)(view)
    app.extensions["intake.limiter"] = limiter
