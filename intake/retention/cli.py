"""Commands: purge (what the schedule runs), purge-drafts, erase-submission."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..db import get_store
from ..store import submissions
from .erasure import REASONS, erase
from .purge import RetentionError, purge_drafts, purge_past_retention


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete expired drafts, and submissions past RETENTION_DAYS (what the periodic job runs)."""
    store = get_store()
    click.echo(f"Deleted {purge_drafts(store)} expired draft(s).")
    try:
        erased = purge_past_retention(current_app, store)
    except RetentionError as exc:
        raise click.ClickException(str(exc)) from None
    if current_app.config.get("RETENTION_DAYS"):
        click.echo(f"Erased {erased} submission(s) past the retention period of {current_app.config['RETENTION_DAYS']} days.")
    else:
        click.echo("Retention is off (RETENTION_DAYS is not set): no submission was erased.")


@click.command("purge-drafts")
@with_appcontext
def purge_drafts_command() -> None:
    """Delete drafts older than their 7-day lifetime."""
    click.echo(f"Deleted {purge_drafts(get_store())} expired draft(s).")


@click.command("erase-submission")
@with_appcontext
@click.argument("reference")
@click.option("--reason", type=click.Choice(list(REASONS)), required=True, help="why it is erased (recorded)")
@click.option("--yes", is_flag=True, help="do not ask to type the reference again")
def erase_submission_command(reference: str, reason: str, yes: bool) -> None:
    """Erase one submission for good: answers, PDFs and stored exports; the audit trail keeps a tombstone."""
    store = get_store()
    found = submissions.get_by_reference(store, reference) or submissions.get(store, reference)
    if found is None:
        raise click.ClickException(f"No submission with reference or id {reference!r}.")
    if not yes:
        typed = click.prompt(f"This cannot be undone. Type the reference {found.reference} to erase it")
        if typed.strip().upper().replace("-", "") != found.reference.replace("-", ""):
            raise click.ClickException("The reference did not match; nothing was erased.")
    result = erase(current_app, store, found.id, reason)
    if result is None:
        raise click.ClickException("It was erased by someone else in the meantime.")
    erased, removed = result
    parts = ", ".join(f"{n} {name}" for name, n in removed.items() if n) or "no PDFs or stored exports"
    click.echo(f"Erased {erased.reference} ({parts}). The audit trail keeps its reference and answers hash.")


def init_app(app: Flask) -> None:
    for command in (purge_command, purge_drafts_command, erase_submission_command):
        app.cli.add_command(command)
