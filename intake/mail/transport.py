"""Hand a built message to SMTP (standard library, with timeouts), or write it to a .eml file."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app

from ..crypto import files
from . import folder

log = logging.getLogger(__name__)
_told_about_folder = False


class PlainTextLoginRefused(Exception):
    """A username is set but neither SMTP_SSL nor SMTP_STARTTLS: the password would cross the network in clear."""


def loopback(host: str) -> bool:
    """A relay on this machine (localhost, 127.0.0.0/8, ::1): the only place a password may go without TLS."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def deliver(message: EmailMessage, name: str) -> str:
    """Send `message`; return "smtp" or the .eml path. Raises on any SMTP failure (the job retries).

    With SMTP_SSL or SMTP_STARTTLS the server's certificate is verified, chain and name, against the
    system's trust store or SMTP_CA_FILE, before anything else is said: no login, no MAIL FROM in clear.
    STARTTLS asked for and not offered is an error (SMTPNotSupportedError), never a fallback to plain text.
    A login without either goes only to a relay on this machine (PlainTextLoginRefused otherwise).
    """
    config = current_app.config
    if not config["SMTP_HOST"]:
        return write_eml(message, name)
    encrypted = config["SMTP_SSL"] or config["SMTP_STARTTLS"]
    if config["SMTP_USERNAME"] and not encrypted and not loopback(config["SMTP_HOST"]):
        raise PlainTextLoginRefused()  # before connecting: the job fails, staff see it, the password stays here
    timeout = float(config["SMTP_TIMEOUT"])
    context = tls_context(config)
    if config["SMTP_SSL"]:
        client = smtplib.SMTP_SSL(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=timeout)
    try:
        if config["SMTP_STARTTLS"] and not config["SMTP_SSL"]:
            client.starttls(context=context)
        if config["SMTP_USERNAME"]:
            client.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        client.send_message(message)
    except BaseException:
        client.close()
        raise
    # The server has taken the message: a failed goodbye must not make the job send it again.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("SMTP server accepted %s, then failed to close the session: %s", name, type(exc).__name__)
        client.close()
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
