"""Key commands: new-data-key, rotate-key, key-status, decrypt-file."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import files, rotation
from .keys import Keyring, new_entry


def _keyring() -> Keyring:
    return current_app.extensions["intake.keyring"]


def _instance() -> Path:
    return Path(current_app.instance_path)


@click.command("new-data-key")
def new_data_key_command() -> None:
    """Print a new data key entry for INTAKE_DATA_KEYS (nothing is stored)."""
    click.echo(new_entry())
    click.echo("Put it FIRST in INTAKE_DATA_KEYS on every server, keep the old entries after it, restart them, "
               "then run `flask --app app rotate-key`.", err=True)


@click.command("rotate-key")
@with_appcontext
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="rows re-encrypted per transaction")
@click.option("--pause", default=0.0, show_default=True, type=click.FloatRange(0, 60),
              help="seconds to rest between batches, to leave room for a busy server")
@click.option("--retire", is_flag=True,
              help="add no key: finish an interrupted rotation, then remove the keys that nothing uses any more")
def rotate_key_command(batch_size: int, pause: float, retire: bool) -> None:
    """Make a new data key active and re-encrypt every row and file with it; resumes an interrupted run.

    Safe to kill at any moment: each batch is its own transaction and old keys stay until --retire.
    """
    from .. import audit
    from ..db import get_store

    keyring, store, instance = _keyring(), get_store(), _instance()
    keyring.refresh(force=True)  # another rotate-key may have added a key a moment ago
    todo = rotation.pending(store, keyring, instance)
    if todo.total:
        click.echo(f"Resuming: {todo.total} row(s)/file(s) are not yet on the active key {keyring.active_id}.")
    elif retire:
        pass  # retiring only: no new key
    elif keyring.writable:
        old = keyring.active_id
        new = keyring.add_key()
        click.echo(f"Added data key {new}; it is now active (the old key {old} stays until --retire).")
        todo = rotation.pending(store, keyring, instance)
    else:
        raise click.ClickException(
            f"Everything already uses the active key {keyring.active_id}, and the keys come from INTAKE_DATA_KEYS, "
            "which Intake cannot change. Run `flask --app app new-data-key`, put its output first in INTAKE_DATA_KEYS "
            "on every server (keep the old keys after it), restart them, then run rotate-key again.")
    if todo.total:
        with click.progressbar(length=todo.total, label=f"Re-encrypting with {keyring.active_id}") as bar:
            done = rotation.reseal(store, keyring, instance, batch=batch_size, pause=pause, tick=bar.update)
        audit.record("key_rotated", detail={"key_id": keyring.active_id, "rows": sum(done.rows.values()),
                                            "files": done.files})
        click.echo(f"Re-encrypted {sum(done.rows.values())} row(s) and {done.files} file(s) with {keyring.active_id}.")
    if retire:
        _retire(keyring, store, instance)


def _retire(keyring: Keyring, store, instance: Path) -> None:
    from .. import audit

    unused = rotation.retirable(store, keyring, instance)
    if rotation.pending(store, keyring, instance).total:
        raise click.ClickException("Some rows or files still use older keys: run rotate-key to finish first.")
    if not unused:
        click.echo(f"Nothing to retire: {keyring.active_id} is the only key.")
        return
    if not keyring.writable:
        click.echo(f"Nothing uses {', '.join(unused)} any more: remove them from INTAKE_DATA_KEYS on every server "
                   "(keep a copy if backups made before the rotation are kept elsewhere).")
        return
    keyring.remove_keys(unused)
    audit.record("key_retired", detail={"key_ids": unused, "active": keyring.active_id})
    click.echo(f"Retired {', '.join(unused)}: no row or file uses them. Backups copied elsewhere before the "
               "rotation need those keys: keep a copy of the old keys with them, or make a fresh backup.")


@click.command("key-status")
@with_appcontext
def key_status_command() -> None:
    """Show the data keys (ids only) and how many rows and files each one seals."""
    from ..db import get_store
    from ..store import encrypted

    keyring, store = _keyring(), get_store()
    click.echo(f"Keys from {keyring.source}")
    for key_id in keyring.ids:
        mark = "active" if key_id == keyring.active_id else "old"
        created = keyring.created(key_id)
        click.echo(f"  {key_id}  {mark}{'  created ' + created if created else ''}")
    for model in encrypted.models():
        counts = encrypted.counts_by_key(store, model)
        shown = ", ".join(f"{k or 'not encrypted yet'}: {n}" for k, n in sorted(counts.items(), key=str)) or "empty"
        click.echo(f"{model.__tablename__}: {shown}")
    by_file = rotation.files_by_key(_instance())
    click.echo("files: " + (", ".join(f"{k}: {n}" for k, n in sorted(by_file.items())) or "none"))
    pending = rotation.pending(store, keyring, _instance()).total
    click.echo("Everything is on the active key." if not pending else
               f"{pending} row(s)/file(s) still use an older key: run rotate-key.")


@click.command("decrypt-file")
@with_appcontext
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="where to write the readable copy (created 0600; it is not encrypted: delete it when done)")
def decrypt_file_command(source: Path, output: Path) -> None:
    """Write a readable copy of an encrypted export or backup made by this installation."""
    from .. import audit

    if output.exists():
        raise click.ClickException(f"{output} exists; choose another name.")
    keyring = _keyring()
    for context in dict.fromkeys(rotation.SEALED_FOLDERS.values()):
        try:
            with open(source, "rb") as handle, files.private_writer(output) as out:
                for chunk in files.iter_open(handle, keyring, context):
                    out.write(chunk)
        except files.SealedFileError:
            continue
        audit.record("file_decrypted", detail={"kind": context})
        click.echo(f"Wrote the readable {context} to {output} (mode 0600, not encrypted).")
        return
    raise click.ClickException(f"{source} is not an encrypted Intake file, or it was altered or cut short.")


def init_app(app: Flask) -> None:
    for command in (new_data_key_command, rotate_key_command, key_status_command, decrypt_file_command):
        app.cli.add_command(command)
