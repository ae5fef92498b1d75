"""What falls due with time: reminders before a visit, and the daily digest. Filled in with appointments."""

from __future__ import annotations


def run_due() -> dict[str, int]:
    return {}
