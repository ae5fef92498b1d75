"""Staff account management: add, deactivate, change role, reset and change passwords.

Every change is audited in the same transaction as the change itself.
"""

from __future__ import annotations

import os
import secrets

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from . import audit, auth
from .auth import AuthError
from .db import get_store
from .models import StaffUser, utcnow
from .store import staff as staff_store

TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes: read off a screen and typed once


def temporary_password() -> str:
    chars = "".join(secrets.choice(TEMP_ALPHABET) for _ in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


def create_user(email: str, role: str, password: str, *, must_change: bool = False) -> StaffUser:
    email = auth.normal_email(email)
    if not auth.EMAIL.match(email) or len(email) > 254:
        raise AuthError("Enter a valid email address, like name@clinic.com.")
    if role not in auth.ROLES:
        raise AuthError(f"Choose a role: {', '.join(auth.ROLES)}.")
    user = StaffUser(email=email, role=role, password_hash=auth.hash_password(password), active=True,
                     failed_logins=0, must_change_password=must_change, created_at=utcnow())
    try:
        with get_store().writing() as session:
            if staff_store.by_email(session, email):
                raise AuthError(f"There is already an account for {email}.")
            session.add(user)
            session.flush()
            audit.record_in(session, "user_created", detail={"user_id": user.id, "email": email, "role": role})
    except IntegrityError:
        raise AuthError(f"There is already an account for {email}.") from None
    return user


def _change(user_id: int, actor: StaffUser | None, action: str, apply) -> StaffUser:
    with get_store().writing() as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            raise AuthError("That account no longer exists. Reload the page.")
        detail = apply(session, user) or {}
        audit.record_in(session, action, detail={"user_id": user.id, "email": user.email, **detail})
        return user


def _keeps_an_admin(session, user: StaffUser) -> None:
    if user.role == "admin" and user.active and staff_store.count_active_admins(session) <= 1:
        raise AuthError("This is the last active administrator. Make someone else an administrator first.")


def set_active(user_id: int, active: bool, actor: StaffUser) -> StaffUser:
    def apply(session, user):
        if not active:
            if user.id == actor.id:
                raise AuthError("You cannot deactivate your own account while signed in with it.")
            _keeps_an_admin(session, user)
            staff_store.revoke_user_sessions(session, user.id)
        user.active = active
    return _change(user_id, actor, "user_activated" if active else "user_deactivated", apply)


def set_role(user_id: int, role: str, actor: StaffUser) -> StaffUser:
    if role not in auth.ROLES:
        raise AuthError(f"Choose a role: {', '.join(auth.ROLES)}.")

    def apply(session, user):
        if role != "admin":
            _keeps_an_admin(session, user)
        old, user.role = user.role, role
        return {"from": old, "to": role}
    return _change(user_id, actor, "user_role_changed", apply)


def reset_password(user_id: int, actor: StaffUser) -> tuple[StaffUser, str]:
    """Give the account a one-time password, unlock it and sign it out everywhere."""
    password = temporary_password()

    def apply(session, user):
        user.password_hash = auth.hash_password(password)
        user.must_change_password = True
        user.failed_logins, user.first_failed_at, user.locked_until = 0, None, None
        staff_store.revoke_user_sessions(session, user.id)
    return _change(user_id, actor, "password_reset", apply), password


def change_password(user: StaffUser, current: str, new: str) -> None:
    with get_store().writing() as session:
        row = session.get(StaffUser, user.id)
        if not auth._verify(row.password_hash, current):
            raise AuthError("Your current password is not right.")
        if new == current:
            raise AuthError("Choose a password different from the current one.")
        row.password_hash = auth.hash_password(new)
        row.must_change_password = False
        audit.record_in(session, "password_changed", detail={"user_id": row.id})


@click.command("create-staff")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice(list(auth.ROLES)), required=True, help="admin, physician or staff (front desk)")
def create_staff_command(email: str, role: str) -> None:
    """Add a staff account. The password comes from INTAKE_PASSWORD, or a prompt."""
    password = os.environ.get("INTAKE_PASSWORD") or click.prompt(
        f"Password for {email} (at least {auth.MIN_PASSWORD} characters)", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(email, role, password)
    except AuthError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {auth.ROLES[role].lower()} account {user.email}.")


@click.command("demo-admin")
@with_appcontext
@click.option("--email", default="admin@clinic.example", show_default=True)
def demo_admin_command(email: str) -> None:
    """On a database without staff, create an admin and print its random password once."""
    if staff_store.count_users(get_store()):
        click.echo("Staff accounts exist already; no demo admin created.")
        return
    password = temporary_password()
    create_user(email, "admin", password)
    click.echo("\n  Demo administrator created. This password is shown once; keep it now.\n"
               f"    Sign in at /staff/login\n    email:    {email}\n    password: {password}\n")


def init_app(app: Flask) -> None:
    app.cli.add_command(create_staff_command)
    app.cli.add_command(demo_admin_command)
