"""Declaring jobs: a plain registry of functions, bound to each app's Huey instance when it is made.

Tests make many apps in one process, each with its own queue; a job declared once at import time
is registered on every one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Higher runs first. Staff waiting for a PDF beat fresh submits, which beat the sweep's catch-up work.
HIGH = 100
NORMAL = 50
LOW = 10
BACKGROUND = 0


class JobError(Exception):
    """A job failed. The message is an exception class name or a fixed sentence, never patient data."""


@dataclass(frozen=True)
class Job:
    """A declared job: the function, its name, and how Huey should run and retry it."""

    func: Callable[..., Any]
    name: str
    retries: int = 0
    retry_delay: float = 0
    retry_backoff: float = 0
    priority: int = NORMAL
    every_minutes: int | None = None  # set for a periodic job
    options: dict = field(default_factory=dict)

    def __call__(self, *args: Any) -> Any:
        """Run it here and now, in the caller's app context (tests, the CLI)."""
        return self.func(*args)


_DECLARED: dict[str, Job] = {}


def _declare(func: Callable[..., Any], **settings: Any) -> Job:
    name = f"{func.__module__}.{func.__name__}"
    job = Job(func=func, name=name, **settings)
    _DECLARED[name] = job
    return job


def task(*, retries: int = 3, retry_delay: float = 10, retry_backoff: float = 2, priority: int = NORMAL):
    """Declare a job. By default it is tried 4 times, 10 s, 20 s and 40 s apart, then shown to administrators."""
    def decorate(func: Callable[..., Any]) -> Job:
        return _declare(func, retries=retries, retry_delay=retry_delay, retry_backoff=retry_backoff, priority=priority)
    return decorate


def periodic(*, minutes: int, priority: int = LOW):
    """Declare a job that every worker's scheduler runs every `minutes` (1 to 60, or a multiple of 60).

    With several workers it may run on several of them at once: make it idempotent (claim rows with
    a conditional UPDATE, as the sweep does).
    """
    if not (1 <= minutes <= 60 or minutes % 60 == 0):
        raise ValueError("minutes must be 1 to 60, or a multiple of 60")

    def decorate(func: Callable[..., Any]) -> Job:
        return _declare(func, priority=priority, every_minutes=minutes)
    return decorate


def declared() -> list[Job]:
    return list(_DECLARED.values())


def find(name: str) -> Job | None:
    return _DECLARED.get(name)
