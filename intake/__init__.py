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
    # export_jobs, renders and retention declare jobs, so they are imported before jobs.init_app binds them.
    from . import crypto, db, export_jobs, i18n, jobs, mail, pdf, questionnaire_ext, renders, retention, security  # noqa: F401
    from .appointments import retention as appointment_retention  # noqa: F401 - its eraser and purge job
    from .mail import jobs as mail_jobs  # noqa: F401 - declares the mail jobs
    from .web import input_guard

    security.init_app(app)
    input_guard.init_app(app)
    i18n.init_app(app)
    crypto.init_app(app)  # before db: the engine seals with the app's keyring
    db.init_app(app)
    questionnaire_ext.init_app(app)
    pdf.init_app(app)
    renders.init_app(app)
    export_jobs.init_app(app)
    mail.init_app(app)
    jobs.init_app(app)  # after the modules that declare jobs


def register_blueprints(app: Flask) -> None:
    from . import limits
    from .web import api, errors, patient, staff

    app.register_blueprint(patient.bp)
    app.register_blueprint(api.bp)
    staff.init_app(app)
    errors.init_app(app)
    limits.init_app(app)  # after the blueprints: it limits their views


def register_commands(app: Flask) -> None:
    from . import backup, cli, demo, retention, seal

    cli.init_app(app)
    demo.init_app(app)
    retention.init_app(app)
    backup.init_app(app)
    seal.init_app(app)
