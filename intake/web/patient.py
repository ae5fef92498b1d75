"""The patient's wizard: start, one page per section, review, consent and submit, resume."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from .. import answers as answers_mod
from .. import forms, i18n, questionnaire_ext
from .. import submission as submitting
from ..appointments import landing as appointment_landing
from ..conditions import referenced_ids
from ..db import get_store
from ..kiosk import current_device
from ..kiosk import patient_side as kiosk_side
from ..kiosk import views as kiosk_views
from ..questionnaire import Questionnaire, Section
from ..store import drafts
from . import draft_access, patient_access

bp = Blueprint("patient", __name__)
bp.before_request(kiosk_side.enforce_idle)
bp.register_blueprint(kiosk_views.bp)  # nested: the kiosk's reset, "I'm still here" and "e-mail my link"
patient_access.register(bp)  # "Continue as …?", the privacy notice, the kiosk's template context
appointment_landing.register(bp)  # /i/<token>: a staff-issued invitation (intake.appointments)

REVIEW = "review"


def wizard(q: Questionnaire) -> list[str]:
    """Page order: every section, then review, then the last section (consent and signature)."""
    return [s.id for s in q.sections[:-1]] + [REVIEW, q.sections[-1].id]


def _neighbour(q: Questionnaire, page: str, step: int) -> str | None:
    pages = wizard(q)
    index = pages.index(page) + step
    return pages[index] if 0 <= index < len(pages) else None


def _page_url(page: str | None) -> str:
    if page is None:
        return url_for(".start")
    return url_for(".review") if page == REVIEW else url_for(".section", section_id=page)


def current_draft() -> tuple[str | None, Any]:
    """Return (token, draft) when this browser may use the draft now (intake.web.draft_access), else (None, None)."""
    access = draft_access.resolve()
    return (access.token, access.draft) if access.open else (None, None)


def _lost_draft():
    if current_device() is None:
        flash(_("We could not find your saved answers. Links to saved forms last 7 days. Please start again."), "warning")
    return redirect(url_for(".start"))


@bp.get("/")
def start():
    access = draft_access.resolve()
    offer, notice = None, ""
    if access.draft is not None and not access.open:
        offer = draft_access.offer_name(access.draft)
        if offer is None:
            # Nothing safe to offer it by: this browser forgets it; its link still opens it.
            draft_access.forget()
            notice = _("A form was started on this device earlier. If it is yours, open it with its private link.")
    return render_template("patient/start.html", draft=access.draft if access.open else None, offer=offer,
                           notice=notice, q=questionnaire_ext.get())


@bp.post("/language")
def language():
    """Switch the pages to another language. The code is a preference, not patient data."""
    i18n.choose(request.form.get("lang", ""))
    return redirect(url_for(".start"))


@bp.post("/intake/start")
def begin():
    q = questionnaire_ext.get()
    token, _draft = drafts.create(get_store(), page=q.sections[0].id, language=str(get_locale()))
    draft_access.remember(token)
    return redirect(_page_url(q.sections[0].id))


@bp.post("/intake/start-over")
def start_over():
    """ "Not you? Start a new form": forget the remembered draft here and begin a fresh one."""
    draft_access.forget()
    return begin()


@bp.get("/intake/resume/<token>")
def resume(token: str):
    drafts.take_mail_token(get_store(), token)  # an e-mailed link (intake/mail) becomes the resume token
    draft = drafts.get(get_store(), token)
    if draft is None:
        return render_template("patient/resume_missing.html"), 404
    drafts.reset_unlock_failures(get_store(), token)
    draft_access.remember(token)
    # Redirect at once, so the token leaves the address bar.
    return redirect(_page_url(draft.page))


def _section(q: Questionnaire, section_id: str) -> Section:
    section = next((s for s in q.sections if s.id == section_id), None)
    if section is None:
        abort(404)
    return section


def _renumber_without(formdata: MultiDict, group: str, index: int) -> MultiDict:
    """Drop row `index` of a repeating group from posted data and close the gap."""
    out = MultiDict()
    prefix = f"{group}-"
    for key, value in formdata.items(multi=True):
        if key.startswith(prefix) and key[len(prefix):].split("-", 1)[0].isdigit():
            row, rest = key[len(prefix):].split("-", 1)
            if int(row) == index:
                continue
            key = f"{prefix}{int(row) - (int(row) > index)}-{rest}"
        out.add(key, value)
    return out


def render_section(q: Questionnaire, section: Section, form: Any, token: str, draft: Any, *, status: int = 200, notice: str = ""):
    known = forms.merge(section, draft.answers, forms.form_answers(section, form))
    visible = forms.enabled_ids(section, known)
    page_ids = {question.link_id for question in section.questions}
    conditional = [question for question in section.questions if question.enable_when]
    # A condition on this page's own answers is shown and hidden live in the browser; one on earlier
    # pages is decided here, and a question that does not apply is simply not sent.
    client = {question.link_id for question in conditional if referenced_ids(question.enable_when) & page_ids}
    return render_template(
        "patient/section.html", q=q, section=section, form=form, draft=draft, token=token,
        ticket=draft_access.page_ticket(token),
        server_hidden={question.link_id for question in conditional} - client - visible,
        client_conditional=client,
        pages=wizard(q), page=section.id, is_last=section is q.sections[-1],
        from_review=request.values.get("from") == REVIEW, notice=notice,
        error_items=error_items, today=dt.date.today(),
    ), status


@bp.app_template_global()
def condition_hint(question: Any) -> str | None:
    """When a conditional question applies, in words, for pages seen without JavaScript."""
    return answers_mod.describe_condition(questionnaire_ext.get(), question.enable_when, _)


def _target(question: Any, field: Any) -> str:
    """The id an error-summary link points at: the first option of a choice list, else the input."""
    grouped = question.type in ("multi-choice", "choice") and question.widget != "select"
    grouped = grouped or (question.type == "boolean" and question.widget != "checkbox")
    return f"{field.id}-0" if grouped else field.id


def error_items(form: Any, section: Section) -> list[tuple[str, str, str]]:
    """(target id, label, message) for every error on the page, in page order."""
    items = []
    for question in section.questions:
        field = form[question.link_id]
        if question.type != "group":
            if field.errors:
                items.append((_target(question, field), _(question.text), field.errors[0]))
            continue
        if field.errors and isinstance(field.errors[0], str):
            items.append((field.id, _(question.text), field.errors[0]))
        for number, entry in enumerate(field.entries, 1):
            for item in question.items:
                sub = entry.form[item.link_id]
                if sub.errors:
                    label = _("Treatment %(n)s: %(question)s", n=number, question=_(item.text))
                    items.append((_target(item, sub), label, sub.errors[0]))
    return items



@bp.route("/intake/<section_id>", methods=["GET", "POST"])
def section(section_id: str):
    q = questionnaire_ext.get()
    section = _section(q, section_id)
    is_last = section is q.sections[-1]
    access = draft_access.resolve()
    token, draft = access.token, access.draft
    if draft is None or access.stale:
        # A submit (a double tap, another tab, a concurrent request) may have turned the draft into a
        # submission: it is deleted in the same transaction. While it exists, no submission has its token.
        if request.method == "POST" and (done := submitting.already_submitted(request.form.get("submit_token"))):
            return _thanks_redirect(done)
        return patient_access.stale_page() if access.stale else _lost_draft()
    form_cls = forms.form_class(section)
    if request.method == "GET":
        if not access.open:
            return patient_access.locked()
        form = form_cls(formdata=forms.answers_formdata(section, draft.answers))
        return render_section(q, section, form, token, draft)

    action = request.form.get("action", "next")
    formdata = request.form
    if action.startswith("remove_row:"):
        group, _sep, index = action.removeprefix("remove_row:").partition(":")
        formdata = _renumber_without(request.form, group, int(index) if index.isdigit() else -1)
    form = form_cls(formdata=formdata)
    answers = answers_mod.prune(q, forms.merge(section, draft.answers, forms.form_answers(section, form)))
    if not access.open:
        # Lose nothing the page carried, but show nothing more until the person proves it is their form.
        drafts.save(get_store(), token, answers, section.id)
        return patient_access.locked()

    if action == "back" or action.startswith(("add_row:", "remove_row:")):
        # Saved without showing errors, but only the answers that pass their bounds.
        checked = forms.checked_answers(section, form_cls, formdata, draft.answers)
        kept = answers_mod.prune(q, forms.merge(section, draft.answers, checked))
    if action == "back":
        previous = _neighbour(q, section.id, -1)
        drafts.save(get_store(), token, kept, previous or section.id)
        return redirect(_page_url(previous))
    if action.startswith(("add_row:", "remove_row:")):
        group = action.split(":")[1]
        if action.startswith("add_row:") and group in form and len(form[group].entries) < form[group].max_entries:
            form[group].append_entry()
        drafts.save(get_store(), token, kept, section.id)
        return render_section(q, section, form, token, draft)

    valid = form.validate_enabled(forms.enabled_ids(section, answers))
    if not valid:
        page_ok = forms.form_answers(section, form, valid_only=True)
        drafts.save(get_store(), token, answers_mod.prune(q, forms.merge(section, draft.answers, page_ok)), section.id)
        return render_section(q, section, form, token, draft, status=422)
    if is_last:
        return _submit(q, token, draft, answers, validated=section.id)
    following = REVIEW if request.form.get("from") == REVIEW else _neighbour(q, section.id, 1)
    drafts.save(get_store(), token, answers, following)
    return redirect(_page_url(following))


def _submit(q: Questionnaire, token: str, draft: Any, answers: dict, validated: str):
    failing = forms.section_errors(q, answers, validated={validated})
    if failing:
        drafts.save(get_store(), token, answers, REVIEW)
        flash(_("Some answers need your attention before you can submit. They are marked below."), "error")
        return redirect(url_for(".review"))
    submission = submitting.submit(draft, token, answers, str(get_locale()))
    return _thanks_redirect(submission)


def _thanks_redirect(submission: Any):
    if current_device() is not None:
        kiosk_side.reset()  # the kiosk forgets this patient now; the thanks page shows once
    else:
        draft_access.forget()
    session["submitted"] = submission.reference
    return redirect(url_for(".thanks"))


@bp.get("/intake/review")
def review():
    q = questionnaire_ext.get()
    access = draft_access.resolve()
    token, draft = access.token, access.draft
    if draft is None:
        return _lost_draft()
    if not access.open:
        return patient_access.locked()
    failing = forms.section_errors(q, draft.answers)
    failing.pop(q.sections[-1].id, None)  # consent is signed after the review
    return render_template(
        "patient/review.html", q=q, draft=draft, token=token, failing=failing, ticket=draft_access.page_ticket(token),
        sections=q.sections[:-1], pages=wizard(q), page=REVIEW,
        format_answer=answers_mod.format_answer, translate=_,
    )


@bp.get("/intake/thanks")
def thanks():
    kiosk = current_device() is not None
    # On a kiosk the reference shows once: a reload or Back finds the start screen.
    reference = session.pop("submitted", None) if kiosk else session.get("submitted")
    if not reference:
        return redirect(url_for(".start"))
    return render_template("patient/thanks.html", reference=reference, clinic=current_app.config["CLINIC_NAME"],
                           return_after=int(current_app.config.get("KIOSK_THANKS_SECONDS", 20)))


def after_csrf_failure():
    """Give the page back with what was typed, after the CSRF token or session expired."""
    notice = _("For your security this page timed out, but your answers are still here. "
               "Please check them and press the button again.")
    q = questionnaire_ext.get()
    section_id = (request.view_args or {}).get("section_id")
    access = draft_access.resolve()
    if access.stale:
        return patient_access.stale_page()
    token, draft = (access.token, access.draft) if access.open else (None, None)
    if access.draft is not None and not access.open:
        return patient_access.locked()
    if section_id and draft is not None and any(s.id == section_id for s in q.sections):
        section = _section(q, section_id)
        form = forms.form_class(section)(formdata=request.form)
        return render_section(q, section, form, token, draft, notice=notice)
    flash(notice if draft else _("This page timed out. Please start again; nothing you typed was sent."), "warning")
    return redirect(_page_url(draft.page) if draft else url_for(".start"))
