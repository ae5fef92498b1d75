"""Keep secrets out of logs, whatever the log format: tokens in paths, token-like query values, cookies.

REDACTIONS is the one list to extend when a new secret-bearing URL appears (issue 12's
invitation links /i/<token> are already in it). Two layers use it:
- RedactingFilter, on the loggers and handlers that see requests: it formats each record's
  message itself (a dict of arguments, as gunicorn's access log passes, or a tuple), redacts
  the final text, and leaves no arguments behind to leak;
- intake.gunicorn_conf.RedactingLogger, which also redacts gunicorn's access-log atoms one by one.
"""

from __future__ import annotations

import logging
import re

MARK = "[redacted]"
REDACTIONS: list[tuple[re.Pattern[str], str]] = [
    # A secret path segment: the patient's resume link, and invitation links.
    (re.compile(r"(/intake/resume/|/i/)[^\s?#/\"']+"), rf"\g<1>{MARK}"),
    # Any intake_* cookie (intake_session, intake_staff, and any future one), in Cookie or Set-Cookie.
    (re.compile(r"\b(intake_[A-Za-z0-9_]*)=[^;,\s\"']*"), rf"\g<1>={MARK}"),
    # Query or form values whose name says they are secret.
    (re.compile(r"(?i)((?:^|[?&;\s\"'=])(?:[a-z0-9_.-]*(?:token|secret|password|passwd|session|signature|sig|key|code|otp))=)"
                r"[^&;,\s\"'#]*"), rf"\g<1>{MARK}"),
    # Bearer and basic credentials in an Authorization header.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), rf"\g<1> {MARK}"),
]


def text(value: str) -> str:
    """Return `value` with every secret replaced by [redacted]."""
    for pattern, replacement in REDACTIONS:
        value = pattern.sub(replacement, value)
    return value


class RedactingFilter(logging.Filter):
    """Redact the fully formatted message of every record; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is logged without its arguments
            message = f"{record.msg} [arguments not shown: they did not fit the message]"
        record.msg, record.args = text(str(message)), None
        return True


# The old name, kept for anything that imported it.
RedactResumeTokens = RedactingFilter
LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "flask-limiter", "huey")


def _add(target: logging.Filterer) -> None:
    if not any(isinstance(f, RedactingFilter) for f in target.filters):
        target.addFilter(RedactingFilter())


def install() -> None:
    """Attach the filter to the loggers that see requests and to their handlers (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        _add(logger)
        for handler in logger.handlers:
            _add(handler)
    for handler in logging.getLogger().handlers:
        _add(handler)
