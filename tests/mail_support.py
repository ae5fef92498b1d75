"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the e-mail tests, and apps that send to it."""

from __future__ import annotations

import datetime as dt
import email
import shutil
import socket
import threading
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update

from intake import appointments, jobs
from intake.models import Appointment, utcnow
from tests.conftest import make_app

NOTIFY = "frontdesk@clinic.test"
# Words that would tell a reader something about the patient's health or treatment.
HEALTH_WORDS = ("neurotox", "botox", "botul", "needling", "micro", "consultation", "treatment", "allerg", "medicat",
                "pregnan", "condition", "stop flag:", "flagged", "lidocaine", "retino")


class Inbox:
    """What the server received: (envelope sender, recipients, parsed message). `refuse` answers RCPT with it."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.refuse: str | None = None
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [m for _f, _t, m in self.received]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


def smtp_config(inbox: Inbox, **extra) -> dict:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": inbox.port, "SMTP_STARTTLS": False, "SMTP_TIMEOUT": 5,
            "SMTP_FROM": "Test Clinic <forms@clinic.test>", "PUBLIC_URL": "http://localhost",
            "CLINIC_PHONE": "+1 555 010 2000", "CLINIC_EMAIL": "hello@clinic.test", "CLINIC_ADDRESS": "12 Quay Street",
            "NOTIFY_EMAIL": NOTIFY, **extra}


def mail_app_for(tmp_path, migrated_sqlite, inbox: Inbox | None, **extra):
    shutil.copy(migrated_sqlite, tmp_path / "intake.sqlite3")
    config = smtp_config(inbox, **extra) if inbox is not None else extra
    return make_app(tmp_path, f"sqlite:///{tmp_path / 'intake.sqlite3'}", **config)


@pytest.fixture
def mail_app(tmp_path, migrated_sqlite, smtp):
    app = mail_app_for(tmp_path, migrated_sqlite, smtp)
    yield app
    app.extensions["intake.store"].engine.dispose()


def book(app, *, hours_ahead: float, language: str = "en", invited_hours_ago: float | None = None,
         email_address: str | None = "maria.lopez@example.com", name: str = "Maria Lopez",
         treatments: str = "neurotoxin") -> int:
    """An appointment `hours_ahead` from now; invited `invited_hours_ago` (None: not invited)."""
    store = app.extensions["intake.store"]
    with app.app_context():
        appointment = appointments.create(store, patient_name=name, visit_at=utcnow() + dt.timedelta(hours=hours_ahead),
                                          treatments=treatments, email=email_address,
                                          mobile=None if email_address else "+1 555 000 1111", language=language)
        if invited_hours_ago is not None:
            with store.writing() as session:
                session.execute(update(Appointment).where(Appointment.id == appointment.id)
                                .values(invited_at=utcnow() - dt.timedelta(hours=invited_hours_ago)))
    return appointment.id


def run_queue(app, *, include_scheduled: bool = False, limit: int = 100) -> int:
    """Do what a worker does until the queue is empty; with include_scheduled, retries run at once."""
    huey, ran = jobs.huey_for(app), 0
    with app.app_context():
        while ran < limit:
            task = huey.dequeue()
            if task is None and include_scheduled:
                due = huey.read_schedule(dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1))
                for waiting in due:
                    waiting.eta = None  # due now: Huey.execute() would put a future task back on the schedule
                    huey.enqueue(waiting)
                task = huey.dequeue() if due else None
            if task is None:
                break
            huey.execute(task)
            ran += 1
    return ran


def parts(message: EmailMessage) -> tuple[str, str]:
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def whole_text(message: EmailMessage) -> str:
    """Headers and both bodies, lower-cased: what a check for forbidden words reads."""
    text, html = parts(message)
    return (str(message["Subject"]) + "\n" + text + "\n" + html).lower()
