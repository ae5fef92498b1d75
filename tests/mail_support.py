"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the e-mail tests, and apps that send to it.

`smtp` is a plain server. `smtp_server(...)` starts one with STARTTLS required, with TLS from the first
byte (port 465 style), and/or with AUTH required; `make_certs(folder)` makes a throwaway private CA and a
server certificate for localhost/127.0.0.1 under the test's tmp_path (nothing is committed).
"""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import shutil
import socket
import ssl
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import update

from intake import appointments, jobs
from intake.models import Appointment, utcnow
from tests.conftest import make_app

NOTIFY = "frontdesk@clinic.test"
# Words that would tell a reader something about the patient's health or treatment.
HEALTH_WORDS = ("neurotox", "botox", "botul", "needling", "micro", "consultation", "treatment", "allerg", "medicat",
                "pregnan", "condition", "stop flag:", "flagged", "lidocaine", "retino")


class Inbox:
    """What the server received: (envelope sender, recipients, parsed message). `refuse` answers RCPT with it.

    For each MAIL FROM it saw, `mail_from` records (sender, TLS version or None, login or None): how the
    session stood when the client began a message. `logins` records every AUTH try: (mechanism, login,
    accepted, TLS version or None); never the password.
    """

    def __init__(self, username: str | None = None, password: str | None = None) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.mail_from: list[tuple[str, str | None, str | None]] = []
        self.logins: list[tuple[str, str, bool, str | None]] = []
        self.refuse: str | None = None
        self.quit_reply: str | None = None  # e.g. "421 ...": a server that stumbles after it has taken the message
        self.lock = threading.Lock()
        self._credentials = (username.encode(), password.encode()) if username is not None else None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 - aiosmtpd's hook name
        login = session.auth_data.login.decode() if session.authenticated else None
        with self.lock:
            self.mail_from.append((address, tls_version(server), login))
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

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

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        return self.quit_reply or "221 Bye"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        """aiosmtpd's authenticator: accepts the one username/password this inbox was made with."""
        accepted = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == self._credentials
        login = auth_data.login.decode(errors="replace") if isinstance(auth_data, LoginPassword) else "?"
        with self.lock:
            self.logins.append((mechanism, login, accepted, tls_version(server)))
        return AuthResult(success=accepted, handled=False, auth_data=auth_data if accepted else None)

    @property
    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [m for _f, _t, m in self.received]


def tls_version(server) -> str | None:
    """The session's TLS version ("TLSv1.3"), after STARTTLS or from the first byte; None in clear."""
    ssl_object = server.transport.get_extra_info("ssl_object") if server.transport else None
    return ssl_object.version() if ssl_object else None


# aiosmtpd 1.4 warns, in its server thread, of what some tests set up on purpose (AUTH without STARTTLS: over
# TLS from the first byte, or a careless server that takes passwords in clear) and of its own use of its
# deprecated Session.login_data on every accepted AUTH. Only those two, only on the tests that need it.
AIOSMTPD_WARNINGS = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning",
                                               "ignore:Session.login_data is deprecated:DeprecationWarning")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(smtp_server):
    """A plain SMTP server on 127.0.0.1: no TLS, no login (stopped after the test by smtp_server)."""
    return smtp_server()


@dataclass(frozen=True)
class Certs:
    """A throwaway private CA (ca_file: what INTAKE_SMTP_CA_FILE names) and a server certificate it signed."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_certs(folder: Path, *, dns_names: tuple[str, ...] = ("localhost",),
               ip_addresses: tuple[str, ...] = ("127.0.0.1",)) -> Certs:
    """A CA and a server certificate for `dns_names` and `ip_addresses` (subjectAltName), valid for a day.

    P-256 keys: made in milliseconds. Written under `folder` (the test's tmp_path); the key file is 0600.
    """
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Intake test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    names = [x509.DNSName(n) for n in dns_names] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    common_name = (dns_names or ip_addresses)[0]
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
              .issuer_name(ca_name).public_key(server_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                           crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.SubjectAlternativeName(names), critical=False)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
              .sign(ca_key, hashes.SHA256()))
    certs = Certs(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    certs.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    certs.cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    certs.key_file.touch(mode=0o600)
    certs.key_file.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    return certs


@pytest.fixture
def smtp_server():
    """Start a real server: `smtp_server(starttls=certs)`, `smtp_server(implicit_tls=certs)`,
    `smtp_server(starttls=certs, login=("user", "password"))`; each one is stopped after the test.

    starttls: the server offers STARTTLS and refuses MAIL before it (require_starttls).
    implicit_tls: TLS from the first byte, as on port 465.
    login: AUTH required (auth_required); only over TLS unless auth_in_clear (a careless server).
    """
    controllers = []

    def start(*, starttls: Certs | None = None, implicit_tls: Certs | None = None,
              login: tuple[str, str] | None = None, auth_in_clear: bool = False) -> Inbox:
        inbox = Inbox(*login) if login else Inbox()
        options: dict = {}
        if starttls:
            options.update(tls_context=starttls.server_context(), require_starttls=True)
        if login:
            # aiosmtpd counts only STARTTLS as TLS for auth_require_tls: over implicit TLS, AUTH is already encrypted.
            options.update(auth_required=True, auth_require_tls=not (auth_in_clear or implicit_tls),
                           authenticator=inbox.authenticate)
        controller = Controller(inbox, hostname="127.0.0.1", port=free_port(),
                                ssl_context=implicit_tls.server_context() if implicit_tls else None, **options)
        controller.start()
        controllers.append(controller)
        inbox.port = controller.port
        return inbox

    yield start
    for controller in controllers:
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
