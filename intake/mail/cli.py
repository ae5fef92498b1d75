"""`flask --app app send-reminders` (the periodic round, for setups without a worker) and `mail-status`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import describe


@click.command("send-reminders")
@with_appcontext
def send_reminders_command() -> None:
    """Send what is due: reminders before visits, the daily digest, kiosk link requests. Safe to run twice."""
    from .jobs import due_round, send_queued

    done = due_round()
    sent, failed = send_queued()
    click.echo("Due: " + ", ".join(f"{count} {what}" for what, count in done.items())
               + f". Sent {sent} e-mail(s) here" + (f"; {failed} failed (staff see them; run again to retry)" if failed else "")
               + ".")


@click.command("mail-status")
@with_appcontext
def mail_status_command() -> None:
    """Say where e-mail goes: an SMTP server, or .eml files in the mail folder."""
    click.echo(describe(current_app))


def init_app(app: Flask) -> None:
    app.cli.add_command(send_reminders_command)
    app.cli.add_command(mail_status_command)
