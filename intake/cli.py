"""Flask commands. Run `flask --app app --help` to list them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import with_appcontext

from .crypto import rotation
from .db import get_store
from .store import maintenance

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str, keyring: Any = None) -> Config:
    config = Config()
    # Data migrations (0011) decrypt and re-seal rows with the app's keys when the caller has them.
    config.attributes["keyring"] = keyring
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, keyring: Any = None) -> None:
    """Bring the database at `url` to the newest schema (with `keyring`, data migrations reach encrypted rows too)."""
    command.upgrade(alembic_config(url, keyring), "head")


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema, and encrypt anything stored before encryption (safe to run again)."""
    upgrade_database(current_app.config["DATABASE_URL"], current_app.extensions["intake.keyring"])
    store = get_store()
    done = rotation.seal_legacy(store, current_app.extensions["intake.keyring"], Path(current_app.instance_path))
    if done.total:
        maintenance.checkpoint(store)  # the plaintext page images leave the SQLite WAL
        click.echo(f"Encrypted {sum(done.rows.values())} row(s) and {done.files} file(s) stored before encryption.")
    if removed := remove_legacy_pdf_folder(Path(current_app.instance_path)):
        click.echo(f"Deleted {removed} PDF file(s) cached on this disk by an older version; "
                   "the workers render them again into the database.")
    click.echo("Database is up to date.")


def remove_legacy_pdf_folder(instance: Path) -> int:
    """Older versions cached PDFs in <instance>/pdf/; they now live in the database, encrypted. Delete the folder."""
    folder = instance / "pdf"
    if not folder.is_dir():
        return 0
    found = [p for p in folder.rglob("*") if p.is_file()]
    shutil.rmtree(folder)
    return len(found)


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db_command)
