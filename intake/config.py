"""Configuration: defaults, then output/config.py, then INTAKE_* environment variables.

Secrets never come from git: SECRET_KEY is read from the environment
(INTAKE_SECRET_KEY) or generated once into the instance folder; so are the
data keys (INTAKE_DATA_KEYS, or <instance>/data_keys: see intake/crypto/keys.py).
The instance folder and its subfolders are 0700, every file in it 0600.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from .crypto import files

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    "CLINIC_NAME": "Harbour Aesthetic Clinic",
    "CLINIC_PHONE": "",
    "MAX_CONTENT_LENGTH": 512 * 1024,  # a whole page of answers is a few KB
    "MAX_FORM_MEMORY_SIZE": 512 * 1024,
    "MAX_FORM_PARTS": 2000,
    "WTF_CSRF_TIME_LIMIT": 4 * 3600,  # a patient may leave a page open for a while
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "intake_session",
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "PDF_PAGE_SIZE": "Letter",
    # Tagged PDF for screen readers; bench/pdf.py measured it at no extra cost.
    "PDF_VARIANT": "pdf/ua-1",
    "LANGUAGES": ["en", "es"],
    # The base of the questionnaire's canonical URL (FHIR): an http(s) URL the clinic controls.
    "FHIR_BASE_URL": "https://intake.example.org/fhir",
    "BABEL_DEFAULT_LOCALE": "en",
    # Purge submissions this many days after they were submitted; None keeps them (see README: local law).
    "RETENTION_DAYS": None,
    "APPOINTMENT_KEEP_DAYS": 30,  # an appointment that never got a form is deleted this long after its visit
    # Shared devices and kiosks (intake/web/draft_access.py, intake/kiosk/).
    "DRAFT_IDLE_MINUTES": 15,  # a remembered draft locks after this long without a page of it
    "DRAFT_UNLOCK_TRIES": 5,  # wrong dates of birth before this browser forgets the draft
    "KIOSK_IDLE_SECONDS": 180,
    "KIOSK_WARNING_SECONDS": 30,
    "KIOSK_THANKS_SECONDS": 20,
    "PRIVACY_CONTACT": "",  # who patients contact about privacy (intake/notice.py); else CLINIC_PHONE
    "HSTS": None,  # None: on outside debug and testing (intake/security.py)
    "HSTS_MAX_AGE": 365 * 24 * 3600,
}


def instance_path(test_config: dict[str, Any] | None) -> Path:
    """The folder the running app writes to: output/ unless told otherwise."""
    chosen = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("INTAKE_INSTANCE_PATH")
    path = Path(chosen) if chosen else ROOT / "output"
    return files.private_dir(path)


def _secret_key(folder: Path) -> str:
    key_file = folder / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def load(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill app.config in order of precedence, lowest first."""
    folder = Path(app.instance_path)
    # SESSION_COOKIE_SECURE: None means "not configured"; Flask's own default (False) would hide that.
    app.config.from_mapping(DEFAULTS, DATABASE_URL=f"sqlite:///{folder / 'intake.sqlite3'}", SESSION_COOKIE_SECURE=None)
    # The instance folder's config.py (a bare "config.py" would be read next to the package: intake/config.py).
    app.config.from_pyfile(str(folder / "config.py"), silent=True)
    app.config.from_prefixed_env("INTAKE")
    app.config.pop("PASSWORD", None)  # INTAKE_PASSWORD is for create-staff only; keep it out of app config
    if os.environ.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(folder)
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = not (app.debug or app.testing)
    for sub in ("exports", "backups"):  # CLI exports (sealed unless --plaintext) and backups; PDFs live in the database
        files.private_dir(folder / sub)
