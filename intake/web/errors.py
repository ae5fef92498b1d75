"""Errors are for people: a page that says what happened and what to do next."""

from __future__ import annotations

import logging
import traceback

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

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
        return _page(413, _("That was too much to send at once"), _("Please shorten your longer answers and try again."))

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
