"""The one place a patient asks for an e-mail: their resume link, sent by the mail jobs (intake/mail).

The request is an outbound_mail row (the address encrypted) and a job. The job mints a link for the
draft when it sends (store.drafts.issue_mail_token), so no secret link waits in the database or the
queue, and records the outcome on the row. The kiosk keeps working on the draft; opening the e-mailed
link makes it the draft's resume token.
"""

from __future__ import annotations

import re

from ..mail import jobs as mail_jobs

ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def valid_address(address: str) -> bool:
    return bool(ADDRESS.match(address or "")) and len(address) <= 254


def queue_resume_link(draft_id: int, address: str, language: str) -> None:
    """Ask for the draft's resume link to be e-mailed to `address` (never logged: it is patient data)."""
    mail_jobs.queue("resume_link", address=address.strip(), language=language, draft_id=draft_id)


def masked(address: str) -> str:
    """m•••@example.com: enough for the patient to check it, not enough for the next person to read it."""
    name, _at, domain = address.partition("@")
    return f"{name[:1]}•••@{domain}"
