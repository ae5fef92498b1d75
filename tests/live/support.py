"""Real processes for the live tests: gunicorn with the repo's config, `flask worker`, and a patient over HTTP.

Every process starts in its own process group on 127.0.0.1 and an ephemeral port, and fixtures
kill the groups in their finalizers, whatever happened.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from intake.crypto import keys

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """One command in its own process group, logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.popen: subprocess.Popen | None = None

    def start(self) -> Proc:
        handle = open(self.log, "ab")  # noqa: SIM115 - closed by the child's exit; kept for the log
        self.popen = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)
        handle.close()
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_group(self, signum: int) -> None:
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL the whole group (the master and every child) and reap the leader."""
        self.signal_group(signal.SIGKILL)
        if self.popen is not None:
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM, then SIGKILL if it does not go."""
        if not self.alive:
            self.kill()
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Site:
    """An instance folder, a database and a queue shared by the servers and workers of one test."""

    def __init__(self, tmp: Path, database_url: str | None = None, **settings: object) -> None:
        self.tmp = tmp
        self.procs: list[Proc] = []
        self.database_url = database_url or f"sqlite:///{tmp / 'intake.sqlite3'}"
        self.env = {**os.environ, "DATABASE_URL": self.database_url, "INTAKE_SECRET_KEY": "live-test-secret",
                    "INTAKE_INSTANCE_PATH": str(tmp / "instance"), "INTAKE_SESSION_COOKIE_SECURE": "false",
                    "INTAKE_CLINIC_NAME": "Live Test Clinic", "PYTHONUNBUFFERED": "1", "FLASK_APP": "app",
                    # Every server and worker of the site shares one data key, as a clinic's deployment must.
                    "INTAKE_DATA_KEYS": keys.new_entry()}
        self.env.pop("INTAKE_REDIS_URL", None)
        for key, value in settings.items():
            self.env[f"INTAKE_{key}"] = value if isinstance(value, str) else repr(value).replace("'", '"')

    def flask(self, *args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def server(self, name: str = "web", workers: int = 2, extra: list[str] | None = None, instance: str = "instance",
               port: int | None = None) -> Server:
        port = port or free_port()
        env = {**self.env, "INTAKE_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers),
               "INTAKE_INSTANCE_PATH": str(self.tmp / instance)}
        argv = [sys.executable, "-m", "gunicorn", "-c", "python:intake.gunicorn_conf", *(extra or []), "intake:create_app()"]
        proc = Proc(name, argv, env, self.tmp / f"{name}.log")
        self.procs.append(proc)
        return Server(proc, port)

    def worker(self, name: str = "worker", processes: int = 2) -> Proc:
        argv = [sys.executable, "-m", "flask", "--app", "app", "worker", "--workers", str(processes)]
        proc = Proc(name, argv, dict(self.env), self.tmp / f"{name}.log")
        self.procs.append(proc)
        return proc

    def cleanup(self) -> None:
        for proc in self.procs:
            proc.kill()


class Server:
    def __init__(self, proc: Proc, port: int) -> None:
        self.proc, self.port = proc, port

    def start(self, wait: float = 60) -> Server:
        self.proc.start()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                if Browser(self.port).get("/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            if not self.proc.alive:
                raise RuntimeError(f"{self.proc.name} exited:\n{self.proc.text()[-3000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"{self.proc.name} did not answer on port {self.port}:\n{self.proc.text()[-3000:]}")


class Browser:
    """A tiny cookie-keeping HTTP client that does not follow redirects (http.client, no dependency)."""

    def __init__(self, port: int, timeout: float = 30) -> None:
        self.port, self.timeout = port, timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            head = dict(headers or {})
            if self.cookies:
                head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            conn.request(method, path, body=body, headers=head)
            response = conn.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    val = rest.split(";", 1)[0]
                    if "expires=thu, 01 jan 1970" in value.lower() or val == "":
                        self.cookies.pop(key, None)
                    else:
                        self.cookies[key] = val
            return response.status, dict((k.lower(), v) for k, v in response.getheaders()), data
        finally:
            conn.close()

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def post(self, path: str, fields: dict | list, **kw):
        items = fields.items() if isinstance(fields, dict) else fields
        pairs = []
        for key, value in items:
            for v in value if isinstance(value, list) else [value]:
                pairs.append((key, str(v)))
        body = urllib.parse.urlencode(pairs).encode()
        return self.request("POST", path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, **kw)


def hidden(html: bytes) -> dict[str, str]:
    from tests.conftest import hidden_fields

    return hidden_fields(html.decode("utf-8", "replace"))


def walk_patient(browser: Browser) -> str | None:
    """Fill in the whole form over HTTP like a browser; return the reference on the thanks page."""
    from tests.walk import PAGES, SECTIONS

    status, _h, page = browser.get("/")
    status, headers, _ = browser.post("/intake/start", hidden(page))
    if status != 302:
        return None
    for section in [*SECTIONS, "consent"]:
        status, _h, page = browser.get(f"/intake/{section}")
        if status != 200:
            return None
        status, headers, body = browser.post(f"/intake/{section}", {**hidden(page), **PAGES[section], "action": "next"})
        if status != 302:
            return None
    status, _h, page = browser.get("/intake/thanks")
    found = re.search(rb'class="reference">([A-Z0-9-]+)<', page)
    return found.group(1).decode() if status == 200 and found else None


def sign_in(browser: Browser, email: str, password: str) -> int:
    _s, _h, page = browser.get("/staff/login")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    return browser.post("/staff/login", {"csrf_token": token, "email": email, "password": password})[0]
