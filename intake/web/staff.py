"""The staff workspace: sign in and out, the dashboard, drafts, a submission, its PDF, review, export."""

from __future__ import annotations

import logging
import secrets
import traceback
import uuid

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from werkzeug.exceptions import HTTPException

from .. import accounts, audit, auth, export, export_jobs, questionnaire_ext, renders
from ..appointments import views as appointment_views
from ..auth import AuthError, requires
from ..db import get_store
from ..kiosk import staff_views as kiosk_views
from ..mfa import commands as mfa_commands
from ..screening import age_on
from ..store import audit as audit_store
from ..store import drafts, search
from ..store import staff as staff_store
from ..store import submissions as submissions_store
from . import admin, erasure, errors, exports, jobs_admin, present, protection, staff_photos
from . import mfa as mfa_views
from .present import all_answers, clinic_time, display_name, filters_from, flag_counts, sorted_flags, staff_context

log = logging.getLogger(__name__)
bp = Blueprint("staff", __name__, url_prefix="/staff")
bp.before_request(auth.guard)
PAGE_SIZE = 25
NOTE_MAX = 2000


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET" and g.get("staff_user"):
        return redirect(url_for("staff.dashboard"))
    if request.method == "GET":
        return render_template("staff/login.html", next=request.args.get("next", ""))
    email, password = request.form.get("email", ""), request.form.get("password", "")
    result = auth.login(email, password)
    if result.user is None:
        return render_template("staff/login.html", error=result.error, email=email[:254],
                               next=request.form.get("next", "")), 401
    if result.needs_code:
        mfa_views.start_code_step(result.user.id, request.form.get("next", ""))
        return redirect(url_for("staff.mfa.code"))
    return mfa_views.signed_in_response(result, request.form.get("next"))


@bp.post("/logout")
@requires("list")
def logout():
    auth.logout()
    session.clear()
    flash("You are signed out.", "info")
    return auth.clear_cookie(redirect(url_for("staff.login")))


@bp.route("/", methods=["GET", "POST"])
@requires("list")
def dashboard():
    # The search box posts, so a patient's name never lands in an address bar, a history or an access log;
    # the pager's buttons post the same form, with a cursor that names a row by its id only.
    filters, cursor, problems = filters_from(request.form if request.method == "POST" else request.args,
                                             allow_q=request.method == "POST")
    today = export.clinic_today()
    after, before = (cursor.submission_id if cursor and cursor.forwards == way else None for way in (True, False))
    found = search.page(get_store(), filters, today, limit=PAGE_SIZE, after=after, before=before)
    page_no = cursor.page if cursor and found.has_before else 1
    audit.record("list_viewed", detail={"page": page_no, "searched": bool(filters.q.strip()), "results": found.total})
    rows, first = found.rows, (page_no - 1) * PAGE_SIZE + 1
    return render_template(
        "staff/dashboard.html", rows=rows, found=found, filters=filters, page=page_no, page_size=PAGE_SIZE,
        first=first, total=present.count_text(found.total, found.cap, first + len(rows) - 1),
        pages=None if found.total_is_capped else max(page_no, -(-found.total // PAGE_SIZE)),
        earlier=rows and found.has_before and present.Cursor(rows[0].id, False, page_no - 1).token(),
        later=rows and found.has_after and present.Cursor(rows[-1].id, True, page_no + 1).token(),
        problems=problems, today=today, counts=search.counts(get_store(), today), count_cap=search.COUNT_CAP,
        count_text=present.count_text, drafts_count=drafts.count_in_progress(get_store()),
        display_name=display_name, flag_counts=flag_counts,
        appointments_missing=appointment_views.missing_soon(),
    )


@bp.get("/drafts")
@requires("list")
def draft_list():
    q = questionnaire_ext.get()
    titles = {s.id: s.title for s in q.sections} | {"review": "Review answers"}
    order = [s.id for s in q.sections[:-1]] + ["review", q.sections[-1].id]
    return render_template("staff/drafts.html", drafts=drafts.in_progress(get_store(), limit=100),
                           total=drafts.count_in_progress(get_store()), titles=titles, order=order)


def _submission(submission_id: uuid.UUID):
    found = submissions_store.get(get_store(), str(submission_id))
    if found is None:
        abort(404)
    return found


@bp.get("/submissions/<uuid:submission_id>")
@requires("open")
def detail(submission_id: uuid.UUID):
    submission = _submission(submission_id)
    audit.record("submission_opened", submission_id=submission.id)
    history = audit_store.for_submission(get_store(), submission.id)
    reviewer = staff_store.emails(get_store(), {submission.reviewed_by} - {None}).get(submission.reviewed_by)
    physician_summary = present.summary_for(submission)
    # Every answer comes from the summary; the plain listing is only the fallback if it could not be built.
    sections = physician_summary["sections"] if physician_summary else all_answers(submission)
    return render_template(
        "staff/detail.html", s=submission, sections=sections, summary=physician_summary,
        history=history, actions=audit.ACTIONS,
        reviewer=reviewer, name=display_name(submission.answers), note_max=NOTE_MAX, flag_counts=flag_counts,
        sorted_flags=sorted_flags, age=age_on(submission.date_of_birth, export.clinic_today()), label=present.label,
    )


@bp.get("/submissions/<uuid:submission_id>.pdf")
@requires("open")
def pdf(submission_id: uuid.UUID):
    """Serve the stored PDF; if it is not made yet, ask a worker (high priority) and say so. Never render here."""
    submission = _submission(submission_id)
    try:
        data, state = renders.wait_for(submission)
    except Exception:  # noqa: BLE001 - the queue is down; the person gets a way forward, the log gets the stack
        log.error("PDF for %s could not be requested\n%s", submission.id, traceback.format_exc(limit=8))
        flash("The PDF could not be asked for just now. Try again in a minute; if it keeps failing, "
              "tell your administrator.", "error")
        return redirect(url_for("staff.detail", submission_id=submission.id))
    if data is None:
        failed = state is not None and state.status == "failed"
        return render_template("staff/pdf_wait.html", s=submission, failed=failed, state=state,
                               name=display_name(submission.answers)), 200 if failed else 202
    audit.record("pdf_downloaded", submission_id=submission.id)
    response = current_app.response_class(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="intake-{submission.reference}.pdf"'
    return response


@bp.post("/submissions/<uuid:submission_id>/render")
@requires("open")
def rerender(submission_id: uuid.UUID):
    submission = _submission(submission_id)
    try:
        renders.fresh(submission)
    except Exception:  # noqa: BLE001 - the queue is down or missing; say so, keep the page
        log.error("PDF re-render of %s could not be scheduled\n%s", submission.id, traceback.format_exc(limit=8))
        flash("A fresh PDF could not be started just now. Try again in a minute; if it keeps failing, "
              "tell your administrator.", "error")
        return redirect(url_for("staff.detail", submission_id=submission.id))
    audit.record("pdf_rerender", submission_id=submission.id)
    flash("A fresh PDF is being made. It takes a few seconds; then use “Download PDF”.", "info")
    return redirect(url_for("staff.detail", submission_id=submission.id))


@bp.post("/submissions/<uuid:submission_id>/review")
@requires("review")
def review(submission_id: uuid.UUID):
    note = request.form.get("note", "").strip()
    if len(note) > NOTE_MAX:
        flash(f"The note is {len(note)} characters; please keep it under {NOTE_MAX}.", "error")
        return redirect(url_for("staff.detail", submission_id=submission_id))
    with get_store().writing() as db:
        if search.mark_reviewed(db, str(submission_id), g.staff_user.id, note) is None:
            abort(404)
        audit.record_in(db, "review", submission_id=str(submission_id), detail={"with_note": bool(note)})
    flash("Marked as reviewed.", "success")
    return redirect(url_for("staff.detail", submission_id=submission_id))


@bp.get("/export")
@requires("export")
def export_view():
    fmt = request.args.get("format", "")
    formats = export.formats_for(auth.can)
    if not fmt:
        return render_template("staff/export.html", formats=formats, values=request.args, error="")
    try:
        job = export.Job.parse(fmt, request.args.get("from", ""), request.args.get("to", ""))
    except export.ExportError as exc:
        return render_template("staff/export.html", formats=formats, values=request.args, error=str(exc)), 400
    if not export.may_export(job.format, auth.can):
        abort(403)  # minimum necessary: answers, FHIR and PDFs are for physicians and administrators
    count = job.count(get_store())
    if export_jobs.runs_as_job(job, count):
        # Too big for one request: a worker builds it, and the person watches its progress.
        return redirect(url_for("staff.exports.progress", job_id=export_jobs.request(job, count)))
    # Recorded before the first byte leaves, so no export goes unrecorded.
    audit.record("export", detail={"format": job.format, "from": job.label_from, "to": job.label_to, "count": count})
    response = Response(stream_with_context(job.stream(get_store())), mimetype=job.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{job.filename}"'
    response.headers["X-Export-Count"] = str(count)
    return response


@bp.route("/account/password", methods=["GET", "POST"])
@requires("list")
def change_password():
    error = ""
    if request.method == "POST":
        new, again = request.form.get("new_password", ""), request.form.get("new_password_again", "")
        try:
            if new != again:
                raise AuthError("The two new passwords are not the same.")
            accounts.change_password(g.staff_user, request.form.get("current_password", ""), new)
        except AuthError as exc:
            error = str(exc)
        else:
            flash("Your password is changed.", "success")
            return redirect(url_for("staff.dashboard"))
    return render_template("staff/password.html", error=error, min_length=auth.MIN_PASSWORD), 422 if error else 200


def after_csrf_failure():
    """An expired form: say so kindly, and put the person back where they were."""
    if request.endpoint == "staff.login":
        return render_template("staff/login.html", email=request.form.get("email", "")[:254], next=request.form.get("next", ""),
                               error="The sign-in page had been open a long time and expired. Please sign in again."), 400
    flash("That page had been open a long time and expired, so nothing was changed. Please try again.", "warning")
    if auth.current_user() is None:
        return redirect(url_for("staff.login"))
    rule = request.url_rule  # back to the page, unless it only takes POSTs (a button's action): then its area's list
    back = request.path if request.path.startswith("/staff/") and request.endpoint != "staff.logout" \
        and rule is not None and "GET" in (rule.methods or ()) else None
    area_index = f"{request.blueprint}.index"
    if back is None and request.blueprint and area_index in current_app.view_functions:
        back = url_for(area_index)
    return redirect(back or url_for("staff.dashboard"))


def _error_page(status: int, title: str, message: str, reference: str = ""):
    return render_template("staff/error.html", status=status, title=title, message=message, reference=reference), status


@bp.errorhandler(403)
def forbidden(error: HTTPException):
    role = auth.ROLES.get(getattr(g.get("staff_user"), "role", ""), "your")
    return _error_page(403, "Not available to your role",
                       f"The {role.lower()} role cannot open this page. Ask a physician or an administrator if you need it.")


@bp.errorhandler(404)
def not_found(error: HTTPException):
    return _error_page(404, "Not found", "That submission or page does not exist. It may have been mistyped; "
                                         "search for the patient from the dashboard.")


@bp.errorhandler(Exception)
def unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _error_page(error.code or 500, error.name, "Please go back and try again.")
    reference = secrets.token_hex(3).upper()
    # The stack only: messages and request data may hold patient answers.
    log.error("staff error %s: %s on %s %s\n%s", reference, type(error).__name__, request.method, request.url_rule,
              "".join(traceback.format_tb(error.__traceback__)))
    return _error_page(500, "Something went wrong on our side",
                       "Nothing you did caused this. Try again in a minute; if it keeps happening, "
                       "tell your administrator and quote the reference below.", reference)


bp.context_processor(staff_context)
bp.add_app_template_filter(clinic_time, "clinic_time")
bp.register_blueprint(admin.bp)  # nested: the admin pages share the guard, the error pages and the context
bp.register_blueprint(erasure.bp)  # nested too: /staff/submissions/<id>/erase
bp.register_blueprint(protection.bp)  # /staff/admin/data-protection
bp.register_blueprint(mfa_views.bp)
bp.register_blueprint(kiosk_views.bp)
bp.register_blueprint(exports.bp)
bp.register_blueprint(jobs_admin.bp)
bp.register_blueprint(staff_photos.bp)  # /staff/submissions/<id>/photos/<n>.jpg (issue 13)
bp.register_blueprint(appointment_views.bp)  # /staff/appointments


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    errors.register_csrf_handler("staff", after_csrf_failure)
    errors.register_csrf_handler("staff.admin", after_csrf_failure)
    errors.register_csrf_handler("staff.erasure", after_csrf_failure)
    errors.register_csrf_handler("staff.mfa", after_csrf_failure)
    errors.register_csrf_handler("staff.kiosk", after_csrf_failure)
    errors.register_csrf_handler("staff.exports", after_csrf_failure)
    errors.register_csrf_handler("staff.jobs", after_csrf_failure)
    errors.register_csrf_handler("staff.appointments", after_csrf_failure)
    accounts.init_app(app)
    mfa_commands.init_app(app)
    audit.init_app(app)
    export.init_app(app)
