"""Secrets never reach a log line: the redaction list, and the filter on records shaped as gunicorn and Werkzeug send them."""

from __future__ import annotations

import logging
import re

from intake import redact
from intake.gunicorn_conf import RedactingLogger


def test_the_redaction_list_covers_paths_cookies_and_query_values():
    line = ('GET /intake/resume/abcDEF_123-x?lang=en HTTP/1.1 cookie="intake_session=eyJ.x.y; intake_staff=s3cr3t; '
            'other=fine" /staff/x?next=/staff/&api_key=K1&page=2&reset_token=T2 /i/INV1TE Authorization: Bearer abc.def')
    out = redact.text(line)
    assert re.findall(r"abcDEF|eyJ|s3cr3t|K1|T2|INV1TE|abc\.def", out) == []
    assert "lang=en" in out and "page=2" in out and "other=fine" in out and "next=/staff/" in out


def test_a_record_with_a_dict_of_arguments_is_formatted_and_redacted_not_broken():
    """gunicorn's access log passes a dict; the old filter turned it into a tuple (TypeError) and dumped the token."""
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '%(h)s "%(r)s" %({cookie}i)s',
                               ({"h": "127.0.0.1", "r": "GET /intake/resume/SECRET123 HTTP/1.1",
                                 "{cookie}i": "intake_staff=STAFF456"},), None)
    assert redact.RedactingFilter().filter(record)
    message = record.getMessage()
    assert message == '127.0.0.1 "GET /intake/resume/[redacted] HTTP/1.1" intake_staff=[redacted]'
    assert record.args is None


def test_a_werkzeug_style_record_is_redacted():
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - - "%s" %s',
                               ("127.0.0.1", "GET /intake/resume/TOKEN789 HTTP/1.1", "302"), None)
    redact.RedactingFilter().filter(record)
    assert "TOKEN789" not in record.getMessage() and "[redacted]" in record.getMessage()


def test_a_record_whose_arguments_do_not_fit_is_still_logged_without_them():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%(missing)s /intake/resume/TOK", ({"other": 1},), None)
    assert redact.RedactingFilter().filter(record)
    assert "TOK" not in record.getMessage() and "arguments not shown" in record.getMessage()


def test_gunicorns_atoms_are_redacted_one_by_one():
    class Config:
        access_log_format = "%(r)s"
        accesslog = None
        errorlog = "-"
        loglevel = "info"
        syslog = False
        disable_redirect_access_to_syslog = False
        capture_output = False
        logconfig = logconfig_dict = logconfig_json = None
        user = group = 0
        umask = 0

    logger = RedactingLogger.__new__(RedactingLogger)

    class Response:
        status = "200 OK"
        sent = 10
        headers = [("Set-Cookie", "intake_session=SESSION1; HttpOnly")]
        response_length = 10

    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/intake/resume/RESUME1?token=Q1", "PATH_INFO": "/intake/resume/RESUME1",
               "QUERY_STRING": "token=Q1", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1"}

    class Request:
        headers = [("COOKIE", "intake_staff=STAFF1")]

    import datetime as dt

    atoms = logger.atoms(Response(), Request(), environ, dt.timedelta(seconds=0.01))
    flat = " ".join(str(v) for v in atoms.values())
    assert not re.search(r"RESUME1|Q1|SESSION1|STAFF1", flat), flat
