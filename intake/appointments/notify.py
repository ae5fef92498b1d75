"""The seam to the mailer: ask for the invitation e-mail of an appointment, off the request path.

If intake.mail (issue 12's e-mail transport) provides send_invitation(appointment_id), it is called:
it enqueues the job that sends. Without it, the appointment is only marked invited: staff hand
the link over themselves (copy or QR code). send_cancellation(appointment_id), when there, queues the
e-mail that tells the patient a visit is cancelled.
"""

from __future__ import annotations

import importlib
import logging

from ..db import get_store
from ..models import utcnow
from ..store import appointments as rows

log = logging.getLogger(__name__)


def mailer(name: str = "send_invitation"):
    """intake.mail's function of that name (send_invitation, send_cancellation), or None while there is no mailer."""
    try:
        module = importlib.import_module("intake.mail")
    except ImportError:
        return None
    return getattr(module, name, None)


def queue_invitation(appointment_id: int) -> bool:
    """Mark the appointment invited and enqueue its e-mail; True when an e-mail was queued."""
    rows.mark_invited(get_store(), appointment_id, utcnow())
    send = mailer()
    if send is None:
        return False
    try:
        queued = send(appointment_id)  # the outbound mail's id, or None (no address)
    except Exception as exc:  # noqa: BLE001 - a queue failure never fails the staff page; the job sweep retries
        log.warning("could not queue the invitation of appointment %s: %s", appointment_id, type(exc).__name__)
        return False
    return queued is not None


def queue_cancellation(appointment_id: int) -> bool:
    """Enqueue the e-mail telling the patient the visit is cancelled; True when it was queued now.

    intake.mail's send_cancellation records it once per cancellation (a double click queues nothing more).
    """
    send = mailer("send_cancellation")
    if send is None:
        return False
    try:
        queued = send(appointment_id)
    except Exception as exc:  # noqa: BLE001 - a queue failure never fails the staff page
        log.warning("could not queue the cancellation e-mail of appointment %s: %s", appointment_id, type(exc).__name__)
        return False
    return queued is not None


def mail_states(appointment_ids: list[int]) -> dict[int, tuple[str, str, str | None]]:
    """Each appointment's latest invitation or reminder e-mail as (kind, status, error), when intake.mail keeps them."""
    if not appointment_ids:
        return {}
    try:
        outbox = importlib.import_module("intake.mail.outbox")
    except ImportError:
        return {}
    latest = getattr(outbox, "latest_for_appointments", None)
    return latest(appointment_ids) if latest else {}
