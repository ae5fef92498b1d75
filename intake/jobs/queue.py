"""Each app's Huey instance, enqueueing, and running a job inside the right app context."""

from __future__ import annotations

import logging
import os
import socket
import traceback
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey, MemoryHuey, PriorityRedisHuey, SqliteHuey, crontab
from huey import signals as huey_signals

from ..crypto import files
from .registry import Job, JobError, declared

log = logging.getLogger(__name__)

EXTENSION = "intake.jobs"
_worker_app: Flask | None = None  # set by the worker command: the app every job of this process runs in


class Queue:
    """One app's Huey instance, with every declared job registered on it."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.huey = make_huey(app)
        self.immediate = bool(self.huey.immediate)
        self._wrappers: dict[str, Any] = {}
        self.huey.signal(huey_signals.SIGNAL_ERROR)(self._on_error)
        self.bind_all()

    def bind_all(self) -> None:
        for job in declared():
            self.wrapper(job)

    def wrapper(self, job: Job):
        """The Huey TaskWrapper for `job` on this app's instance (registered on first use)."""
        if job.name not in self._wrappers:
            settings = {"retries": 0 if self.immediate else job.retries, "retry_delay": job.retry_delay,
                        "retry_backoff": job.retry_backoff, "priority": job.priority, "name": job.func.__name__}
            runner = _runner(job)
            if job.every_minutes:
                self._wrappers[job.name] = self.huey.periodic_task(_schedule(job.every_minutes), **settings)(runner)
            else:
                self._wrappers[job.name] = self.huey.task(**settings)(runner)
        return self._wrappers[job.name]

    def _on_error(self, signal: str, task: Any, exc: BaseException | None = None) -> None:
        if task.retries:
            return  # Huey tries it again later
        from ..store import jobs as jobs_store

        job_name = f"{type(task).__module__}.{type(task).__name__}"  # the Job's name: module.function
        error = str(exc) if isinstance(exc, JobError) else type(exc).__name__
        try:
            with _context(self.app):
                from ..db import get_store

                jobs_store.record_failure(get_store(), job_name, list(task.args or ()), error)
        except Exception:  # noqa: BLE001 - never let bookkeeping kill the worker
            log.error("could not record the failure of job %s", job_name)


def _schedule(minutes: int):
    return crontab(minute=f"*/{minutes}") if minutes < 60 else crontab(minute="0", hour=f"*/{minutes // 60}")


def make_huey(app: Flask) -> Huey:
    """Immediate (tests), Redis (REDIS_URL) or SQLite in the instance folder (the default)."""
    config = app.config
    name = config.get("JOBS_NAME") or "intake"
    if config.get("JOBS_IMMEDIATE"):
        return MemoryHuey(name, immediate=True, results=False, utc=True)
    if config.get("REDIS_URL"):
        return PriorityRedisHuey(name, url=config["REDIS_URL"], results=False, utc=True)
    filename = config.get("JOBS_SQLITE") or str(Path(app.instance_path) / "jobs.sqlite3")
    files.create_private(Path(filename))  # 0600 before SQLite opens it (its -wal and -shm inherit the mode)
    return SqliteHuey(name, filename=filename, results=False, utc=True, fsync=True, timeout=10)


def _context(app: Flask | None):
    if has_app_context():
        return current_app.app_context()
    if app is None:
        raise RuntimeError("a job ran outside an app: start workers with `flask --app app worker`")
    return app.app_context()


def _runner(job: Job):
    def run(*args: Any) -> Any:
        app = current_app._get_current_object() if has_app_context() else _worker_app
        with _context(app):
            try:
                return job.func(*args)
            except JobError:
                raise
            except Exception as exc:
                # The stack and the class name only: an exception's message may quote patient data.
                log.error("job %s failed: %s\n%s", job.name, type(exc).__name__,
                          "".join(traceback.format_tb(exc.__traceback__)))
                raise JobError(type(exc).__name__) from None
    run.__name__ = job.func.__name__
    run.__module__ = job.func.__module__
    return run


def huey_for(app: Flask | None = None) -> Huey:
    return queue_for(app).huey


def queue_for(app: Flask | None = None) -> Queue:
    app = app or current_app._get_current_object()
    return app.extensions[EXTENSION]


def enqueue(job: Job, *args: Any, priority: int | None = None) -> None:
    """Put `job(*args)` on the current app's queue. In immediate mode it runs now, in the caller."""
    queue = queue_for()
    task = queue.wrapper(job).s(*args, priority=job.priority if priority is None else priority)
    queue.huey.enqueue(task)


def run_now(job: Job, *args: Any) -> Any:
    """Run a job synchronously here (the CLI, tests), with the same error handling as a worker."""
    return _runner(job)(*args)


def worker_identity() -> str:
    """host:pid, recorded on what a worker claims, so a restarted worker knows what died with the last one."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}"


def init_app(app: Flask) -> None:
    app.config.setdefault("JOBS_IMMEDIATE", False)
    app.config.setdefault("JOBS_NAME", "intake")
    app.config.setdefault("JOBS_WORKERS", 2)
    app.config.setdefault("JOBS_MAX_TASKS", 200)  # a worker process is replaced after this many jobs
    app.config.setdefault("JOBS_LEASE_SECONDS", 300)
    from . import sweep, worker  # noqa: F401 - declares the sweep; adds the worker command

    app.extensions[EXTENSION] = Queue(app)
    worker.init_app(app)
