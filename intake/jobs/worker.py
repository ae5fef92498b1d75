"""`flask --app app worker`: a Huey consumer with process workers, one job at a time in each."""

from __future__ import annotations

import logging
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import queue as queue_mod
from . import sweep


def _configure_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.INFO)


@click.command("worker")
@click.option("--workers", "-w", type=int, default=None, help="worker processes (default: JOBS_WORKERS, 2)")
@click.option("--no-periodic", is_flag=True, help="do not run periodic jobs (the sweep, purges) in this worker")
@with_appcontext
def worker_command(workers: int | None, no_periodic: bool) -> None:
    """Run background jobs: PDF renders, exports, purges. Stop with Ctrl-C (or SIGTERM: finishes the running jobs)."""
    app: Flask = current_app._get_current_object()
    if app.config["JOBS_IMMEDIATE"]:
        raise click.ClickException("JOBS_IMMEDIATE is set: jobs run in the web process, there is nothing to consume.")
    _configure_logging()
    queue = queue_mod.queue_for(app)
    queue.bind_all()
    queue_mod._worker_app = app
    huey = queue.huey

    @huey.on_startup()
    def fresh_connections() -> None:
        # A forked worker must not share the parent's database connections.
        app.extensions["intake.store"].engine.dispose(close=False)

    reclaimed = sweep.reclaim_dead_claims()
    sweep.start(force=True)
    app.extensions["intake.store"].engine.dispose()
    count = workers or int(app.config["JOBS_WORKERS"])
    click.echo(f"Intake worker: {count} process(es), queue {huey.name!r}"
               f"{' on Redis' if app.config.get('REDIS_URL') else ''}; {reclaimed} interrupted job(s) taken up again.",
               err=True)
    consumer = huey.create_consumer(
        workers=count, worker_type="process", periodic=not no_periodic, max_tasks=int(app.config["JOBS_MAX_TASKS"]),
        check_worker_health=True, health_check_interval=2, initial_delay=0.05, max_delay=1.0, shutdown_timeout=30,
        graceful_signal="TERM",
    )
    consumer.run()


def init_app(app: Flask) -> None:
    app.cli.add_command(worker_command)
