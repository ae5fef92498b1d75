"""Staff pages for kiosks: sign this tablet in as a kiosk (any staff role), list and revoke kiosks (administrators)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from .. import auth
from ..auth import requires
from ..db import get_store
from ..store import kiosks
from . import devices

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")


@bp.get("/")
@requires("list")
def index():
    rows = kiosks.listing(get_store()) if auth.can("manage_users") else []
    return render_template("staff/kiosk.html", devices=rows, name_max=devices.NAME_MAX)


@bp.post("/start")
@requires("list")
def start():
    """Turn this browser into a kiosk: the staff member is signed out here, and the patient form takes over."""
    token = devices.start(request.form.get("name", ""), g.staff_user)
    auth.logout()
    session.clear()
    response = redirect(url_for("patient.start"))
    auth.clear_cookie(response)
    return devices.set_cookie(response, token)


@bp.post("/<int:device_id>/revoke")
@requires("manage_users")
def revoke(device_id: int):
    device = devices.end(device_id, g.staff_user, "revoked")
    if device is None:
        flash("That kiosk is already signed out.", "info")
    else:
        flash(f"“{device.name}” is no longer a kiosk. It shows the normal start page from its next request.", "success")
    return redirect(url_for(".index"))
