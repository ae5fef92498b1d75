"""Fixtures: an app on a fresh SQLite file per test, a PostgreSQL variant, and a patient helper."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import uuid
from collections import Counter

import pytest
from sqlalchemy import create_engine, text

from intake import create_app
from intake.cli import upgrade_database

PG_URL = os.environ.get("INTAKE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Page name -> axe-core violations (tests/e2e), listed at the end of the run.
AXE_RESULTS: dict[str, list[dict]] = {}
# The slowest tests by far: each starts real gunicorn and worker processes (tests/live).
HEAVY_FILES = ("tests/live/test_soak.py", "tests/live/test_workers.py")


# --- running on both cores ------------------------------------------------------------------------------------------
# `make test` runs pytest-xdist with --dist worksteal, which first hands each of the two workers one half of the
# collection. Each half starts with one of the heaviest files, so they run side by side, not one after the other.

@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    if not getattr(config.option, "numprocesses", None):
        return
    heavy = [[i for i in items if str(i.fspath).endswith(name)] for name in HEAVY_FILES]
    others_live = [i for i in items if "tests/live/" in str(i.fspath) and not any(i in h for h in heavy)]
    first, second = heavy[0] + others_live[0::2], heavy[1] + others_live[1::2]
    rest = [i for i in items if i not in first and i not in second]
    split = max(0, len(items) // 2 - len(first))
    items[:] = first + rest[:split] + second + rest[split:]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """An xdist worker is done: keep its axe-core results for the summary."""
    AXE_RESULTS.update(json.loads(getattr(node, "workeroutput", {}).get("axe_results", "{}")))


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput") and AXE_RESULTS:  # in an xdist worker: hand them to the controller
        session.config.workeroutput["axe_results"] = json.dumps(AXE_RESULTS)


def pytest_terminal_summary(terminalreporter):
    if AXE_RESULTS:
        terminalreporter.section("axe-core, violations by impact")
        for name, violations in sorted(AXE_RESULTS.items()):
            counts = Counter(v["impact"] for v in violations)
            terminalreporter.write_line(f"{name}: {dict(counts) if counts else 'none'}")


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """Migrate one SQLite file per run; each test gets a copy (fast, and exercises the migrations)."""
    path = tmp_path_factory.mktemp("template") / "intake.sqlite3"
    upgrade_database(f"sqlite:///{path}")
    return path


def make_app(tmp_path, database_url, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": database_url,
        "CLINIC_NAME": "Test Clinic",
        # Jobs run in the caller (Huey immediate mode), so nothing outlives a test.
        "JOBS_IMMEDIATE": True,
        **extra,
    }
    return create_app(config)


@pytest.fixture
def app(tmp_path, migrated_sqlite):
    db_file = tmp_path / "intake.sqlite3"
    shutil.copy(migrated_sqlite, db_file)
    app = make_app(tmp_path, f"sqlite:///{db_file}")
    yield app
    app.extensions["intake.store"].engine.dispose()


@contextlib.contextmanager
def throwaway_schema(prefix: str):
    """A fresh, migrated schema in the test database, dropped afterwards; yields its URL.

    Skips the test without a server, except under CI, where PostgreSQL is required.
    """
    try:
        admin = create_engine(PG_URL)
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server"
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI but did not answer at {PG_URL}: {exc}")
        pytest.skip(f"no PostgreSQL server at {PG_URL}")
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        upgrade_database(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_schema_url():
    """A fresh schema in the test database, migrated once per session."""
    with throwaway_schema("intake_test") as url:
        yield url


@pytest.fixture
def pg_app(tmp_path, pg_schema_url):
    app = make_app(tmp_path, pg_schema_url)
    engine = app.extensions["intake.store"].engine
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
        )).scalars().all()
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    yield app
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request):
    """The same test on both supported databases."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()




def hidden_fields(html: str) -> dict[str, str]:
    """The hidden tokens a page carries (CSRF, draft, one-time submit token)."""
    found = {}
    for match in re.finditer(r"<input[^>]*>", html):
        tag = match.group(0)
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and value and name.group(1) in ("csrf_token", "draft_token", "submit_token"):
            found[name.group(1)] = value.group(1)
    return found


class Patient:
    """Drive the wizard as a browser would: GET a page, then POST it with its hidden tokens."""

    def __init__(self, client):
        self.client = client

    def start(self):
        page = self.client.get("/")
        response = self.client.post("/intake/start", data=hidden_fields(page.text))
        assert response.status_code == 302
        return response

    def post(self, section_id: str, data: dict, action: str = "next", **kwargs):
        page = self.client.get(f"/intake/{section_id}")
        assert page.status_code == 200, page.text[:500]
        return self.client.post(f"/intake/{section_id}", data={**hidden_fields(page.text), **data, "action": action}, **kwargs)

    def resume_url(self) -> str:
        page = self.client.get("/intake/review")
        return re.search(r'value="http://localhost(/intake/resume/[^"]+)"', page.text).group(1)


@pytest.fixture
def patient(client):
    return Patient(client)
