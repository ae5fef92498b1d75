"""staff.jobs: background jobs that failed for good, and PDFs that could not be made, with a retry button."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from .. import audit, jobs
from ..auth import requires
from ..db import get_store
from ..store import jobs as jobs_store
from ..store import pdfs, submissions

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")


@bp.get("/")
@requires("audit")
def failed():
    store = get_store()
    return render_template("staff/jobs.html", failures=jobs_store.open_failures(store),
                           pdf_failures=pdfs.failures(store), immediate=jobs.queue.queue_for().immediate)


@bp.post("/<int:failure_id>/retry")
@requires("audit")
def retry(failure_id: int):
    store = get_store()
    failure = jobs_store.get(store, failure_id)
    if failure is None:
        abort(404)
    job = jobs.find(failure.task)
    if job is None:
        flash("That kind of job no longer exists in this version; nothing was run.", "error")
        return redirect(url_for(".failed"))
    if jobs_store.mark_retried(store, failure_id):
        if failure.task.endswith("render_pdf") and failure.args and (s := submissions.get(store, str(failure.args[0]))):
            from .. import renders

            renders.fresh(s)  # resets its attempts, so the sweep does not skip it
        else:
            jobs.enqueue(job, *failure.args)
        audit.record("job_retried", detail={"task": failure.task, "failure_id": failure.id})
        flash("The job is queued again. Reload this page in a minute to see whether it worked.", "success")
    return redirect(url_for(".failed"))
