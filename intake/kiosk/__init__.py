"""Kiosk mode: a clinic tablet that shows the patient form only, and forgets each patient when they are done.

Owns: the kiosk device cookie and kiosk_devices rows (devices.py), the patient-side reset and idle clock
(patient_side.py, its views in views.py), the staff pages that start and revoke kiosks (staff_views.py),
and the queued "e-mail me my link" requests (outbox.py).
May import: intake.models, intake.store, intake.audit, intake.auth, intake.limits, intake.web.draft_access.

For other modules: current_device() and is_kiosk_request() (e.g. to exempt kiosks from per-IP limits).
"""

from .devices import current_device, is_kiosk_request

__all__ = ["current_device", "is_kiosk_request"]
