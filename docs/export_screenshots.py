"""Take the README's screenshots of a ZIP of PDFs being prepared, then ready, at 1280×800 and on a phone.

    .venv/bin/python docs/export_screenshots.py   # writes docs/screenshots/export-*.png

No worker runs here: the job waits in the queue, the screenshot of its progress is taken part way
(the row's counter is set as a worker's heartbeat would set it), then the job runs in this process.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))

from screenshots import CHROMIUM_ARGS, OUT, STAFF_EMAIL, STAFF_PASSWORD, serve  # noqa: E402


def main() -> None:
    from intake import accounts, demo, export_jobs, jobs
    from intake.db import get_store
    from intake.models import ExportJob

    app, server, base = serve()
    with app.app_context():
        demo.insert(app.extensions["intake.store"], 40, seed=5)
        accounts.create_user(STAFF_EMAIL, "physician", STAFF_PASSWORD)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(base + "/staff/login")
        page.get_by_label("Email").fill(STAFF_EMAIL)
        page.get_by_label("Password").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(base + "/staff/export?format=pdf-zip")
        job_id = page.url.rstrip("/").rsplit("/", 1)[-1]
        with app.app_context(), get_store().writing() as session:
            row = session.get(ExportJob, job_id)
            row.status, row.done = "running", 17
        page.reload()
        page.screenshot(path=OUT / "export-progress.png")
        with app.app_context():
            with get_store().writing() as session:
                session.get(ExportJob, job_id).status = "queued"  # as it really was: no worker had claimed it
            jobs.run_now(export_jobs.build_export, job_id)
        page.reload()
        page.screenshot(path=OUT / "export-ready.png")
        phone = browser.new_page(viewport={"width": 375, "height": 812}, device_scale_factor=2)
        phone.context.add_cookies(page.context.cookies())
        phone.goto(page.url)
        phone.screenshot(path=OUT / "export-ready-phone.png")
        browser.close()
    server.shutdown()
    print(f"wrote export-progress.png, export-ready.png, export-ready-phone.png to {OUT}")


if __name__ == "__main__":
    main()
