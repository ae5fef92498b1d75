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
    """Send `message`; return "smtp" or the .eml path. Raises on any SMTP failure (the job retries)."""
    config = current_app.config
    if not config["SMTP_HOST"]:
        return write_eml(message, name)
    timeout = float(config["SMTP_TIMEOUT"])
    context = ssl.create_default_context()
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
