"""The one place a patient asks for an e-mail: for now the request is recorded, and sending comes with issue 12.

Issue 12 (SMTP through the job queue) replaces the body of queue_resume_link() with enqueueing a job.
The job mints a fresh resume token for the draft when it sends (store.drafts.reissue_token), so no
secret link waits in the database, and marks the row sent.
"""

from __future__ import annotations

import re

from ..db import get_store
from ..models import MailRequest, utcnow

ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def valid_address(address: str) -> bool:
    return bool(ADDRESS.match(address or "")) and len(address) <= 254


def queue_resume_link(draft_id: int, address: str, language: str) -> None:
    """Ask for the draft's resume link to be e-mailed to `address` (never logged: it is patient data)."""
    with get_store().writing() as session:
        session.add(MailRequest(kind="resume_link", draft_id=draft_id, address=address.strip(), language=language,
                                created_at=utcnow()))


def masked(address: str) -> str:
    """m•••@example.com: enough for the patient to check it, not enough for the next person to read it."""
    name, _at, domain = address.partition("@")
    return f"{name[:1]}•••@{domain}"
