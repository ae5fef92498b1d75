"""The operator's way back in: reset a person's two-step sign-in from the server's shell (e.g. the only admin lost a phone)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from .. import auth
from ..db import get_store
from ..store import staff as staff_store
from . import service


@click.command("reset-two-step")
@with_appcontext
@click.argument("email")
def reset_two_step_command(email: str) -> None:
    """Turn off EMAIL's two-step sign-in and sign them out everywhere; they set it up again (audited as "cli")."""
    with get_store().reading() as session:
        user = staff_store.by_email(session, auth.normal_email(email))
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    service.reset(user.id, None)
    click.echo(f"Two-step sign-in is reset for {user.email}. They set it up again at their next sign-in.")


def init_app(app: Flask) -> None:
    app.cli.add_command(reset_two_step_command)
