"""Errors are for people: a page that says what happened and what to do next."""

from __future__ import annotations

import logging
import traceback

from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .. import photos
from . import input_guard

log = logging.getLogger(__name__)

CSRF_HANDLERS = {}


def register_csrf_handler(blueprint: str, handler) -> None:
    """Let a blueprint answer its own expired-form errors (the patient gets the page back filled in)."""
    CSRF_HANDLERS[blueprint] = handler


def _page(status: int, title: str, message: str):
    try:
        return render_template("error.html", status=status, title=title, message=message), status
    except Exception:  # noqa: BLE001 - the error page itself failed; still say something human
        log.error("error page failed to render")
        return f"{title}. {message}", status, {"Content-Type": "text/plain; charset=utf-8"}


def _staff() -> bool:
    return (request.blueprint or "").startswith("staff") or request.path.startswith("/staff")


def _staff_page(status: int, title: str, message: str):
    try:
        return render_template("staff/error.html", status=status, title=title, message=message, reference=""), status
    except Exception:  # noqa: BLE001 - the error page itself failed; still say something human
        log.error("staff error page failed to render")
        return f"{title}. {message}", status, {"Content-Type": "text/plain; charset=utf-8"}


def _retry_seconds(error: HTTPException) -> int:
    limit = getattr(error, "limit", None)
    try:
        return max(1, int(limit.limit.get_expiry()))
    except Exception:  # noqa: BLE001 - a sensible default when the limit cannot say
        return 60


def _retry_after(error: HTTPException) -> str:
    seconds = _retry_seconds(error)
    minutes = round(seconds / 60)
    return _("%(num)d minutes", num=minutes) if minutes > 1 else _("a minute")


def init_app(app: Flask) -> None:
    from . import patient

    register_csrf_handler("patient", patient.after_csrf_failure)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        handler = CSRF_HANDLERS.get(request.blueprint or "")
        if handler:
            return handler()
        return _page(400, _("This page timed out"), _("For your security, forms expire. Go back, reload the page and try again."))

    @app.errorhandler(404)
    def not_found(error: HTTPException):
        return _page(404, _("Page not found"), _("The address may be mistyped, or the page has moved."))

    @app.errorhandler(413)
    def too_large(error: HTTPException):
        if _staff():
            return _staff_page(413, "That was too much to send at once", "Please shorten what you typed and try again.")
        if request.endpoint in input_guard.LARGE_BODIES:  # the photo page: the files together were too big
            return _page(413, _("Those photos were too large to send together"),
                         _("Please go back and add your photos one at a time, each under %(mb)s MB.",
                           mb=photos.megabytes(photos.limit(current_app.config, "PHOTO_MAX_BYTES"))))
        return _page(413, _("That was too much to send at once"), _("Please shorten your longer answers and try again."))

    @app.errorhandler(input_guard.UnreadableInput)
    def unreadable(error: HTTPException):
        if _staff():
            return _staff_page(400, "Some characters could not be read",
                               "What was sent contains invisible control characters, often from copying and pasting. "
                               "Go back, type it again and try once more.")
        return _page(400, _("Some characters could not be read"),
                     _("What was sent contains invisible characters, often from copying and pasting. "
                       "Please go back, type it again and try once more."))

    @app.errorhandler(429)
    def too_many(error: HTTPException):
        wait = _retry_after(error)
        if _staff():
            body = _staff_page(429, "Too many attempts from this network",
                               f"For everyone's safety, this address has to wait about {wait} before trying again. "
                               "If your whole clinic sees this, ask your administrator to raise RATELIMIT_LOGIN.")
        else:
            body = _page(429, _("Too many attempts"),
                         _("Too many forms were started from this network in a short time. Please wait about "
                           "%(wait)s and try again, or ask the front desk for help.", wait=wait))
        response = current_app.make_response(body)
        response.headers.setdefault("Retry-After", str(_retry_seconds(error)))
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return _page(error.code or 500, _("That did not work"), _("Please go back and try again."))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        # Log the type and the stack, never the message or request data: either may hold patient answers.
        log.error("unhandled %s on %s %s\n%s", type(error).__name__, request.method, request.url_rule,
                  "".join(traceback.format_tb(error.__traceback__)))
        return _page(500, _("Something went wrong on our side"),
                     _("Your answers so far are saved. Please try again in a minute, or ask the front desk for help."))
