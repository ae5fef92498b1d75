"""Keep secrets out of logs: the access log would otherwise record resume tokens."""

from __future__ import annotations

import logging
import re

TOKEN_PATH = re.compile(r"(/intake/resume/)[^\s?\"]+")


class RedactResumeTokens(logging.Filter):
    """Replace the token in /intake/resume/<token> with [redacted] in any log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(TOKEN_PATH.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                                for a in (record.args if isinstance(record.args, tuple) else (record.args,)))
        if isinstance(record.msg, str):
            record.msg = TOKEN_PATH.sub(r"\1[redacted]", record.msg)
        return True


def install() -> None:
    """Attach the filter to the loggers that see request paths (idempotent)."""
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactResumeTokens) for f in logger.filters):
            logger.addFilter(RedactResumeTokens())
