"""Demo data: realistic, varied submissions from no real patient, for trying the staff side and for benchmarks.

Owns: patients (who they are, what they answer: `generate`) and history (how a clinic group's records
look over years, inserted in bulk: `insert`), and the `flask demo-data N` command. May import the
domain (questionnaire, screening, answers), the models and the store; nothing imports it but the app
factory, benchmarks and tests.
"""

from __future__ import annotations

import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..db import get_store
from .history import insert
from .patients import generate

__all__ = ["generate", "insert", "init_app"]


@click.command("demo-data")
@with_appcontext
@click.argument("count", type=click.IntRange(1, 5_000_000))
@click.option("--seed", default=7, show_default=True, help="Same seed, same patients.")
def demo_data_command(count: int, seed: int) -> None:
    """Create COUNT realistic, varied demo submissions (no real patients), spread over up to ten years."""
    started = time.perf_counter()
    with click.progressbar(length=count, label="Creating demo submissions", show_pos=True, show_eta=True) as bar:
        insert(get_store(), count, seed=seed, progress=bar.update)
    click.echo(f"Created {count} demo submissions in {current_app.config['DATABASE_URL'].split('://')[0]} "
               f"in {time.perf_counter() - started:.0f} s.")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_data_command)
