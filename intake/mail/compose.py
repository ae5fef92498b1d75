"""Build messages from templates/mail/<name>.txt and .html (autoescaped), in the recipient's language.

Each builder takes the outbound_mail row and returns an EmailMessage, or None when there is nothing
left to send (the form was submitted, the draft expired). Builders for patient e-mails receive no
answers and put no name, treatment or health word in subject or body.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import current_app, render_template
from flask_babel import force_locale

from .outbox import Mail

BUILDERS: dict[str, Callable[[Mail], EmailMessage | None]] = {}


def builder(kind: str):
    def register(func: Callable[[Mail], EmailMessage | None]):
        BUILDERS[kind] = func
        return func
    return register


def build(mail: Mail) -> EmailMessage | None:
    return BUILDERS[mail.kind](mail)


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("CLINIC_TIMEZONE") or "UTC")


def external(endpoint: str, **values: object) -> str:
    """An absolute URL under PUBLIC_URL (jobs run without a request)."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def language_of(mail: Mail) -> str:
    return mail.language if mail.language in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def when(moment: dt.datetime, language: str) -> dict[str, str]:
    """The visit's date and time in the clinic's zone, spelled for `language` ("jueves, 26 de noviembre de 2026")."""
    local = moment.astimezone(clinic_zone())
    return {"date": format_date(local.date(), format="full", locale=language),
            "time": format_time(local.time(), format="short", locale=language)}


def clinic() -> dict[str, str]:
    config = current_app.config
    return {"name": config["CLINIC_NAME"], "phone": config.get("CLINIC_PHONE") or "",
            "email": config.get("CLINIC_EMAIL") or "", "address": config.get("CLINIC_ADDRESS") or ""}


def sender() -> str:
    config = current_app.config
    if config["SMTP_FROM"]:
        return config["SMTP_FROM"]
    host = urlsplit(config["PUBLIC_URL"]).hostname or "localhost"
    return formataddr((config["CLINIC_NAME"], f"no-reply@{host}"))


def message(template: str, *, to: str, language: str, subject: Callable[[], str], automatic: bool = False,
            **context: object) -> EmailMessage:
    """Render `template` .txt and .html in `language`; subject is a callable so it is translated too."""
    with force_locale(language):
        context = {"clinic": clinic(), "language": language, **context}
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
        title = subject()
    msg = EmailMessage()
    msg["Subject"] = title
    msg["From"] = sender()
    msg["To"] = to
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(domain=urlsplit(current_app.config["PUBLIC_URL"]).hostname or "localhost")
    if current_app.config.get("CLINIC_EMAIL"):
        msg["Reply-To"] = current_app.config["CLINIC_EMAIL"]
    if automatic:
        msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    msg["Content-Language"] = language  # after the content: set_content() clears Content-* headers
    return msg
