"""A real browser against a live server: Debian's Chromium, driven by Playwright.

The server runs in a thread on a free 127.0.0.1 port with its own instance folder
and a copy of the migrated SQLite file. Never `playwright install`: the browser is
the system's /usr/bin/chromium (`make test` installs it with apt).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.conftest import make_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"width": 375, "height": 812}
# Set INTAKE_SCREENSHOTS=docs/screenshots to refresh the README's accessibility and Spanish screenshots.
SCREENSHOTS = os.environ.get("INTAKE_SCREENSHOTS")



class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        """Leave each request out of the test output; failures still show the browser's view."""


class LiveServer:
    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="live-server", daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, migrated_sqlite):
    folder = tmp_path_factory.mktemp("live")
    shutil.copy(migrated_sqlite, folder / "intake.sqlite3")
    named = {"CLINIC_NAME": "Harbour Aesthetic Clinic"} if SCREENSHOTS else {}
    app = make_app(folder, f"sqlite:///{folder / 'intake.sqlite3'}", **named)
    yield app
    app.extensions["intake.store"].engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[LiveServer]:
    with LiveServer(live_app) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is required under CI: `make test` installs Debian's chromium")
        pytest.skip(f"no {CHROMIUM}: run `make test`, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser):
    """Make browser contexts (a fresh profile each: no cookies) and close them after the test."""
    made = []

    def make(*, javascript: bool = True, language: str = "en-US", viewport: dict | None = None):
        context = browser.new_context(viewport=viewport or PHONE, java_script_enabled=javascript, locale=language,
                                      extra_http_headers={"Accept-Language": language},
                                      device_scale_factor=2 if SCREENSHOTS else 1)
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


def screenshot(target, name: str, **kwargs) -> None:
    """Save a README screenshot when INTAKE_SCREENSHOTS names a folder; otherwise do nothing."""
    if SCREENSHOTS:
        target.screenshot(path=str(Path(SCREENSHOTS) / name), **kwargs)
