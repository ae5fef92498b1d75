"""Shared devices: a draft this browser remembers opens only for the person who is still using it.

The patient's signed session cookie holds:
  draft       the resume token of the draft this browser works on;
  draft_seen  when a page of it was last shown or saved here: the "still typing" clock;
  forgotten   short hashes of drafts this browser was told to forget ("Not you?", a kiosk reset),
              so a stale tab of an earlier patient cannot bring them back.
A draft is open while draft_seen is within the idle limit (DRAFT_IDLE_MINUTES, default 15; on a kiosk
KIOSK_IDLE_SECONDS). After that, and whenever the browser comes back later, it is locked: the start
page offers it by first name only, and it opens again with the date of birth given on the form
(DRAFT_UNLOCK_TRIES wrong tries, counted on the server, and this browser forgets it) or the resume link.

Form pages carry an opaque ticket (intake.sealing) naming the draft and the time the page was made,
not the resume token. If the session is lost, a page posted while its maker is still typing (made
within the idle limit) saves and comes back filled in; an older page still saves what it carries, but
opens nothing until the date of birth or the link is given.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app, request, session

from .. import sealing
from ..conditions import as_date
from ..db import get_store
from ..store import drafts

TICKET = "draft-page"
FORGOTTEN_KEPT = 20


@dataclass
class Access:
    token: str | None = None
    draft: Any = None
    open: bool = False  # this browser may show and change it now
    stale: bool = False  # the posted page belongs to a draft this browser no longer works on


def now() -> int:
    return int(time.time())


def idle_seconds() -> int:
    from .. import kiosk

    if kiosk.current_device() is not None:
        return int(current_app.config.get("KIOSK_IDLE_SECONDS", 180))
    return int(current_app.config.get("DRAFT_IDLE_MINUTES", 15) * 60)


def max_tries() -> int:
    return int(current_app.config.get("DRAFT_UNLOCK_TRIES", 5))


def _short(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()[:16]


def page_ticket(token: str) -> str:
    """What a form page carries instead of the resume token."""
    return sealing.ticket(TICKET, token)


def remember(token: str) -> None:
    """This browser now works on `token`, and the person here has just proved it is theirs."""
    from .. import kiosk

    if session.get("draft") not in (None, token):
        forget()
    session["draft"] = token
    session["draft_seen"] = now()
    # On a personal phone the draft is remembered across browser restarts (and offered by first name);
    # a kiosk forgets everything when the browser closes.
    session.permanent = kiosk.current_device() is None


def forget() -> None:
    """Forget the draft in this browser; the draft stays on the server, reachable by its link."""
    token = session.pop("draft", None)
    session.pop("draft_seen", None)
    if token:
        session["forgotten"] = ([_short(token)] + list(session.get("forgotten", [])))[:FORGOTTEN_KEPT]


def is_forgotten(token: str) -> bool:
    return _short(token) in session.get("forgotten", [])


def _is_open() -> bool:
    seen = session.get("draft_seen")
    return isinstance(seen, int) and 0 <= now() - seen <= idle_seconds()


def resolve() -> Access:
    """The draft this request may use, and whether it is open; refreshes the clock when it is."""
    store = get_store()
    token = session.get("draft")
    draft = drafts.get(store, token)
    if draft is None and token:
        session.pop("draft", None)  # expired, submitted or deleted
        session.pop("draft_seen", None)
        token = None
    if request.method == "POST" and "draft_token" in request.form:
        posted = sealing.open_ticket(TICKET, request.form.get("draft_token"))
        if posted is None:
            return Access(stale=token is not None)
        posted_token, made = posted
        if token is not None and posted_token != token:
            return Access(stale=True)  # a stale tab of another form: never mix two people's answers
        if token is None:
            if is_forgotten(posted_token):
                return Access(stale=True)
            draft = drafts.get(store, posted_token)
            if draft is None:
                return Access()
            # The session was lost: the page itself names the draft, and its age says whether its maker is still here.
            token = session["draft"] = posted_token
            session["draft_seen"] = made
    access = Access(token=token, draft=draft, open=draft is not None and _is_open())
    if access.open:
        session["draft_seen"] = now()
    return access


def offer_name(draft: Any) -> str | None:
    """The first name a locked draft may be offered by, or None if it cannot be offered on this device."""
    answers = draft.answers or {}
    first = str(answers.get("first_name") or "").strip()
    if not first or as_date(answers.get("date_of_birth")) is None or (draft.unlock_failures or 0) >= max_tries():
        return None
    return first


def try_unlock(text: str) -> tuple[bool, int]:
    """Open the remembered draft if `text` is the date of birth given on the form: (opened, tries left)."""
    store = get_store()
    token = session.get("draft")
    draft = drafts.get(store, token)
    if draft is None or offer_name(draft) is None:
        forget()
        return False, 0
    given = as_date((text or "").strip()[:20])
    if given is not None and given == as_date(draft.answers.get("date_of_birth")):
        drafts.reset_unlock_failures(store, token)
        remember(token)
        return True, max_tries()
    left = max(0, max_tries() - drafts.count_unlock_failure(store, token))
    if left == 0:
        forget()
    return False, left
