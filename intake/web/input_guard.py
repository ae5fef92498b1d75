"""Refuse unreadable input before any view sees it: control characters, and too many parts in any encoding.

- Question answers are judged by their fields (a message next to the field, see validators.py).
  Every other value (tokens in paths, query parameters, staff search, login e-mail, export
  parameters, hidden fields) with a control character gets a 400 page for people: PostgreSQL
  cannot store NUL, and no legitimate value holds one.
- MAX_FORM_PARTS applies to urlencoded bodies and query strings too (Werkzeug applies it to
  multipart only).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, Request, current_app, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

# C0 controls and DEL and C1 controls. Long text answers may keep tab, newline and carriage return.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class UnreadableInput(BadRequest):
    """A request value held characters no form sends."""


class _PartsLimitedParser(FormDataParser):
    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        if self.max_form_memory_size is not None and content_length is not None \
                and content_length > self.max_form_memory_size:
            raise RequestEntityTooLarge()
        data = stream.read() if self.max_form_memory_size is None else stream.read(self.max_form_memory_size + 1)
        if self.max_form_parts is not None and data.count(b"&") + 1 > self.max_form_parts:
            raise RequestEntityTooLarge()
        # Invalid UTF-8 becomes U+FFFD, as in query strings, instead of silently dropping the whole form.
        items = parse_qsl(data.decode("utf-8", "replace"), keep_blank_values=True, errors="werkzeug.url_quote")
        return stream, self.cls(items), self.cls()


class IntakeRequest(Request):
    form_data_parser_class = _PartsLimitedParser

    @property
    def max_content_length(self) -> int | None:
        # Decided by the matched endpoint, so whichever hook reads the body first (CSRF does) applies it.
        if self._max_content_length is None and self.method == "POST" and (large := LARGE_BODIES.get(self.endpoint or "")):
            return large(current_app.config)
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        # Uploaded files stay in memory (the request limit bounds them): a patient's photo never
        # touches the disk unencrypted, as Werkzeug's spooled temporary file would let it.
        return io.BytesIO()


# Endpoints allowed a larger request than MAX_CONTENT_LENGTH, with a function of the config giving
# their own limit (the photo upload page). Every other endpoint keeps the small one.
LARGE_BODIES: dict[str, Callable[[Any], int]] = {}


def allow_large_body(endpoint: str, limit: Callable[[Any], int]) -> None:
    LARGE_BODIES[endpoint] = limit


def _question_field(name: str) -> bool:
    from .. import questionnaire_ext

    q = questionnaire_ext.get()
    return name.split("-", 1)[0] in q.by_id


def check() -> None:
    """before_request: 413 for too many parts, 400 for a control character outside an answer."""
    limit = current_app.config.get("MAX_FORM_PARTS")
    if limit and request.query_string.count(b"&") + 1 > limit:
        raise RequestEntityTooLarge()
    values = [*(request.view_args or {}).values(), *request.args.keys(), *request.args.values()]
    answers_page = request.endpoint == "patient.section" and request.method == "POST"
    for name, value in request.form.items(multi=True):
        values.append(name)
        if not (answers_page and _question_field(name)):
            values.append(value)
    if any(isinstance(v, str) and CONTROL.search(v) for v in values):
        raise UnreadableInput()


def init_app(app: Flask) -> None:
    app.request_class = IntakeRequest
    app.before_request(check)
