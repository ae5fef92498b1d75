"""Intake: consultation intake for aesthetic clinics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from . import config

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and wire the application. No logic lives here, only the table of contents."""
    instance_path = config.instance_path(test_config)
    app = Flask(__name__, instance_path=str(instance_path), template_folder=str(ROOT / "templates"))
    config.load(app, test_config)

    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from . import crypto, db, i18n, pdf, questionnaire_ext, security

    security.init_app(app)
    i18n.init_app(app)
    crypto.init_app(app)  # before db: the engine seals with the app's keyring
    db.init_app(app)
    questionnaire_ext.init_app(app)
    pdf.init_app(app)


def register_blueprints(app: Flask) -> None:
    from .web import api, errors, patient, staff

    app.register_blueprint(patient.bp)
    app.register_blueprint(api.bp)
    staff.init_app(app)
    errors.init_app(app)


def register_commands(app: Flask) -> None:
    from . import backup, cli, demo, retention, seal

    cli.init_app(app)
    demo.init_app(app)
    retention.init_app(app)
    backup.init_app(app)
    seal.init_app(app)
