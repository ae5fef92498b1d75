"""Hand a built message to SMTP (standard library, with timeouts), or write it to a .eml file."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app

from ..crypto import files
from . import folder

log = logging.getLogger(__name__)
_told_about_folder = False


def deliver(message: EmailMessage, name: str) -> str:
    """Send `message`; return "smtp" or the .eml path. Raises on any SMTP failure (the job retries).

    With SMTP_SSL or SMTP_STARTTLS the server's certificate is verified, chain and name, against the
    system's trust store or SMTP_CA_FILE, before anything else is said: no login, no MAIL FROM in clear.
    STARTTLS asked for and not offered is an error (SMTPNotSupportedError), never a fallback to plain text.
    """
    config = current_app.config
    if not config["SMTP_HOST"]:
        return write_eml(message, name)
    timeout = float(config["SMTP_TIMEOUT"])
    context = tls_context(config)
    if config["SMTP_SSL"]:
        client = smtplib.SMTP_SSL(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=timeout)
    with client as smtp:
        if config["SMTP_STARTTLS"] and not config["SMTP_SSL"]:
            smtp.starttls(context=context)
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        smtp.send_message(message)
    return "smtp"


def tls_context(config) -> ssl.SSLContext:
    """Certificates required and host names checked (never CERT_NONE); TLS 1.2 or later.

    SMTP_CA_FILE (PEM): trust the CA(s) in it instead of the system store, for a clinic's private CA.
    """
    context = ssl.create_default_context(cafile=config.get("SMTP_CA_FILE") or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def write_eml(message: EmailMessage, name: str) -> str:
    """No SMTP configured: the message as a .eml file (0600) in a 0700 folder. `name` holds ids only."""
    global _told_about_folder
    target = files.private_dir(folder(current_app))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    path = target / f"{stamp}-{name}.eml"
    files.write_private(path, message.as_bytes())
    if not _told_about_folder:
        log.info("no SMTP server configured: e-mails are written to %s", target)
        _told_about_folder = True
    return str(path)
