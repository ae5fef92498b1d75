"""E-mail: invitations, reminders, cancellations, resume links, staff notifications and the daily digest.

How a message travels:
1. Something asks for it: a row in outbound_mail (kind, an id, the recipient encrypted) and a job
   (`send_mail(mail_id)`), or a job alone where the request path must stay light (a submit enqueues
   `notify_submitted(submission_id)` and nothing else).
2. The job builds the message from templates/mail/*.txt and *.html in the recipient's language
   (compose.py), minting a fresh token where the message carries a link, and hands it to the
   transport (transport.py): SMTP with the standard library, or, with no INTAKE_SMTP_HOST, a .eml
   file in <instance>/mail/ (0600, folder 0700).
3. The row records the outcome. A failure is retried with backoff (MAIL_RETRIES); after the last
   try the row is "failed", staff see it, and the admin Jobs page lists the job. The patient never does.

What is never in an e-mail to a patient: health information, treatments, answers, or their name.
Staff notifications carry a reference, a visit date and "stop flags: yes/no", and say "Sign in to read it."
Job arguments are ids and dates only; logs name the mail id and kind, never an address.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

log = logging.getLogger(__name__)

SETTINGS = {
    "SMTP_HOST": "",  # empty: write .eml files to MAIL_FOLDER instead of sending
    "SMTP_PORT": 587,
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": True,  # upgrade a plain connection with STARTTLS (port 587)
    "SMTP_SSL": False,  # TLS from the first byte (port 465); overrides SMTP_STARTTLS
    "SMTP_TIMEOUT": 20,  # seconds for connecting and for each SMTP command
    "SMTP_CA_FILE": "",  # PEM file of the CA(s) to trust for the server's certificate; empty: the system trust store
    "SMTP_FROM": "",  # e.g. "Harbour Aesthetic Clinic <forms@harbour.example>"; else no-reply@<PUBLIC_URL host>
    "MAIL_FOLDER": "",  # where .eml files go without SMTP; else <instance>/mail
    "PUBLIC_URL": "http://127.0.0.1:5000",  # the address patients and staff open; links in e-mails start with it
    "CLINIC_EMAIL": "",  # Reply-To, and "how to reach us" in patient e-mails
    "CLINIC_ADDRESS": "",
    "NOTIFY_EMAIL": "",  # staff address told of each submitted form; empty: no notifications
    "DIGEST_EMAIL": "",  # the daily digest's address; else NOTIFY_EMAIL
    "DIGEST_HOUR": None,  # clinic-local hour (0-23) to send tomorrow's missing forms; None: no digest
    "REMINDER_HOURS": [72, 24],  # reminders this many hours before the visit, while no form is submitted
}


def folder(app: Flask) -> Path:
    return Path(app.config["MAIL_FOLDER"] or Path(app.instance_path) / "mail")


def describe(app: Flask) -> str:
    """One line for people starting the app: where e-mail goes (no addresses, no secrets)."""
    config = app.config
    if config["SMTP_HOST"]:
        security = "SSL" if config["SMTP_SSL"] else ("STARTTLS" if config["SMTP_STARTTLS"] else "no TLS")
        line = f"E-mail: sent through SMTP {config['SMTP_HOST']}:{config['SMTP_PORT']} ({security})."
        if security != "no TLS" and config.get("SMTP_CA_FILE"):
            ca_file = Path(config["SMTP_CA_FILE"])
            line += f" The server's certificate is checked against the CA file {ca_file} (INTAKE_SMTP_CA_FILE)"
            line += "." if ca_file.is_file() else ", which cannot be found: no e-mail can be sent until it is there."
        if security == "no TLS" and config["SMTP_USERNAME"]:
            from .transport import loopback

            if not loopback(config["SMTP_HOST"]):
                line += (" Nothing will be sent: a login without TLS would send the password in clear. Set"
                         " INTAKE_SMTP_STARTTLS=true (port 587) or INTAKE_SMTP_SSL=true (port 465).")
        if config["PUBLIC_URL"] == SETTINGS["PUBLIC_URL"]:
            line += f" Links in e-mails start with {config['PUBLIC_URL']}: set INTAKE_PUBLIC_URL to the clinic's address."
        return line
    return (f"E-mail: no SMTP server configured (INTAKE_SMTP_HOST), so e-mails are written to {folder(app)}/ "
            "as .eml files instead of being sent.")


def send_invitation(appointment_id: int) -> int | None:
    """Queue the appointment's invitation e-mail (the seam intake.appointments.notify calls); None without an address."""
    from ..db import get_store
    from ..store import appointments as appointment_rows
    from .jobs import queue

    appointment = appointment_rows.get(get_store(), appointment_id)
    if appointment is None or not appointment.email:
        return None
    return queue("invitation", address=appointment.email, language=appointment.language, appointment_id=appointment_id)


def send_cancellation(appointment_id: int) -> int | None:
    """Queue the e-mail telling the patient their visit is cancelled, once per cancellation; None without an address,
    when the appointment is not cancelled, or when this cancellation's e-mail was queued before (a double click)."""
    from ..db import get_store
    from ..store import appointments as appointment_rows
    from .jobs import queue
    from .kinds import cancellation_key

    appointment = appointment_rows.get(get_store(), appointment_id)
    if appointment is None or not appointment.email or appointment.cancelled_at is None:
        return None
    return queue("cancelled", address=appointment.email, language=appointment.language, appointment_id=appointment_id,
                 once_key=cancellation_key(appointment_id, appointment.cancelled_at))


def init_app(app: Flask) -> None:
    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
    from . import cli

    cli.init_app(app)
