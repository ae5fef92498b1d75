"""staff.exports: a prepared export's progress page and its download, for the person who asked only."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, render_template, url_for

from .. import export_jobs
from ..auth import can, requires
from ..db import get_store
from ..export import FORMATS, may_export
from ..models import utcnow
from ..store import exports

bp = Blueprint("exports", __name__, url_prefix="/exports")
REFRESH_SECONDS = 2


def _own(job_id: str):
    row = exports.get(get_store(), job_id[:36])
    if row is None or row.user_id != g.staff_user.id:
        abort(404)  # someone else's export does not exist, as far as this person can tell
    if not may_export(row.format, can):
        abort(403)  # their role changed since they asked: the same table as the Export page decides
    return row


@bp.app_template_global()
def my_recent_exports() -> list:
    """The signed-in person's last prepared exports, for the Export page."""
    user = g.get("staff_user")
    return exports.for_user(get_store(), user.id, limit=5) if user else []


@bp.get("/<job_id>")
@requires("export")
def progress(job_id: str):
    row = _own(job_id)
    working = row.status in ("queued", "running")
    percent = int(100 * row.done / row.total) if row.total else (100 if row.status == "done" else 0)
    return render_template("staff/export_job.html", job=row, working=working, percent=percent,
                           refresh=REFRESH_SECONDS if working else None, label=FORMATS[row.format][0],
                           downloadable=export_jobs.downloadable(row, g.staff_user.id), now=utcnow(),
                           download_url=url_for(".download", job_id=row.id), filename=export_jobs.as_export(row).filename)


@bp.get("/<job_id>/download")
@requires("export")
def download(job_id: str):
    row = _own(job_id)
    if not export_jobs.downloadable(row, g.staff_user.id):
        abort(404)
    export_jobs.record_download(row)
    response = Response(exports.parts(get_store(), row.id), mimetype=FORMATS[row.format][1], direct_passthrough=True)
    response.headers["Content-Disposition"] = f'attachment; filename="{export_jobs.as_export(row).filename}"'
    response.headers["Content-Length"] = str(row.size)
    response.headers["X-Export-Count"] = str(row.done)
    return response
