"""The clinic-group shape: two gunicorn servers and a worker on one PostgreSQL schema and one Redis."""

from __future__ import annotations

import os
import time
import uuid

import pytest
import redis
from sqlalchemy import create_engine, text

from intake.crypto import keys
from intake.crypto.blob import open_blob
from tests.conftest import throwaway_schema

from .support import Browser, sign_in, walk_patient

REDIS_URL = os.environ.get("INTAKE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def pg_schema():
    with throwaway_schema("intake_live") as url:
        yield url


@pytest.fixture
def queue_name():
    name = f"intake-live-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required under CI: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    yield name
    for key in client.scan_iter(match=f"*{name}*"):
        client.delete(key)
    client.close()


def test_server_b_serves_the_pdf_server_a_took_without_rendering_it_again(site_factory, pg_schema, queue_name):
    site = site_factory(database_url=pg_schema, REDIS_URL=REDIS_URL, JOBS_NAME=queue_name, RATELIMIT_LOGIN="3 per minute")
    made = site.flask("create-staff", "dr.b@clinic.test", "--role", "physician",
                      env={"INTAKE_PASSWORD": "two servers passphrase"})
    assert made.returncode == 0, made.stderr
    a = site.server("a", workers=1, instance="instance-a")
    b = site.server("b", workers=1, instance="instance-b")
    a.start(), b.start()
    worker = site.worker("worker", processes=1).start()
    reference = walk_patient(Browser(a.port))
    assert reference
    engine = create_engine(pg_schema)
    try:
        query = text("SELECT r.status, r.attempts, r.updated_at, r.content FROM rendered_pdfs r "
                     "JOIN submissions s ON s.id = r.submission_id WHERE s.reference = :ref")
        deadline = time.monotonic() + 90
        row = None
        while time.monotonic() < deadline and not (row and row.status == "ok"):
            with engine.connect() as conn:
                row = conn.execute(query, {"ref": reference}).first()
            time.sleep(0.3)
        assert row and row.status == "ok", worker.text()[-3000:]
        worker.stop()  # from now on nobody could render it: B must serve what is stored
        with engine.connect() as conn:
            submission_id = conn.execute(text("SELECT id FROM submissions WHERE reference = :ref"),
                                         {"ref": reference}).scalar()
        physician = Browser(b.port)
        assert sign_in(physician, "dr.b@clinic.test", "two servers passphrase") == 302
        status, headers, body = physician.get(f"/staff/submissions/{submission_id}.pdf")
        assert status == 200 and headers["content-type"] == "application/pdf"
        # The database holds the PDF sealed with the clinic's data key; B serves exactly what the worker stored.
        stored = bytes(row.content)
        assert not stored.startswith(b"%PDF"), "the stored PDF is encrypted at rest"
        keyring = keys.Keyring.from_entries(site.env["INTAKE_DATA_KEYS"])
        assert body == open_blob(keyring, stored, "rendered_pdfs.content"), "B served the bytes the worker stored"
        with engine.connect() as conn:
            after = conn.execute(query, {"ref": reference}).first()
        assert (after.attempts, after.updated_at) == (row.attempts, row.updated_at), "nothing rendered it again"
        assert not list((site.tmp / "instance-b").rglob("*.pdf")) and not list((site.tmp / "instance-a").rglob("*.pdf"))
        # Rate limits live in Redis too: failed sign-ins on A and on B count against one address.
        intruder_a, intruder_b = Browser(a.port), Browser(b.port)
        codes = [sign_in(browser, "dr.b@clinic.test", "wrong guess!!") for browser in (intruder_a, intruder_b, intruder_a)]
        assert codes == [401, 401, 401]
        assert sign_in(intruder_b, "dr.b@clinic.test", "wrong guess!!") == 429
    finally:
        engine.dispose()
