"""Issue 13, photos in a real browser: without JavaScript a plain file input; with it, a preview and a progress bar."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import press
from tests.e2e.conftest import screenshot
from tests.e2e.test_a11y import axe, describe
from tests.photo_support import jpeg_with_gps

pytestmark = pytest.mark.browser


def photo_file(name: str = "IMG_0042.JPG") -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": jpeg_with_gps(size=(1200, 900))}


def open_photos_page(live_server, context):
    page = context.new_page()
    page.goto(live_server.url + "/")
    press(page, "Start")
    page.goto(live_server.url + "/intake/photos")
    expect(page.get_by_role("heading", name="Photos (optional)")).to_be_visible()
    return page


def test_with_javascript_a_preview_shows_and_the_upload_reports_progress(live_server, new_context):
    page = open_photos_page(live_server, new_context())
    page.get_by_label("Choose a photo").first.set_input_files(photo_file())
    preview = page.locator('[data-preview-for="photo-1"]')
    expect(preview).to_be_visible()
    expect(preview.locator("img")).to_have_attribute("src", re.compile(r"^data:image/jpeg;base64,"))
    expect(preview).to_contain_text("IMG_0042.JPG")
    page.locator("#photo-1-caption").fill("Scar on my chin")
    assert not axe(page, "photos, with a preview"), describe(axe(page, "photos, with a preview"))
    screenshot(page, "phone-photos-preview.png", full_page=True)

    # What the page's own script shows: each value its progress bar takes, reported from the page.
    seen: list[str] = []
    page.expose_function("reportBar", lambda value: seen.append(value))
    page.evaluate("""() => new MutationObserver(() => {
        const bar = document.getElementById('upload-progress');
        if (bar && !bar.closest('[hidden]')) { window.reportBar(bar.getAttribute('value')); }
      }).observe(document.getElementById('main'), {attributes: true, subtree: true, attributeFilter: ['value', 'hidden']})""")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/intake/photos")) as sent:
        page.get_by_role("button", name="Add and stay on this page").click()
    assert sent.value.resource_type == "xhr" and "multipart/form-data" in sent.value.headers["content-type"]
    expect(page.get_by_role("heading", name="Your photos")).to_be_visible()
    thumbnail = page.get_by_role("img", name="Photo 1: Scar on my chin")
    expect(thumbnail).to_be_visible()
    # The thumbnail has width and height attributes, so it is "visible" before it has loaded: wait for the bytes.
    loaded = page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    assert loaded.json_value() is True
    assert seen and seen[-1] == "100", seen  # the bar was shown, and reached 100 % before the page moved on
    assert not axe(page, "photos, one added"), describe(axe(page, "photos, one added"))


def test_with_javascript_a_refused_file_shows_the_servers_message_and_focuses_the_summary(live_server, new_context):
    page = open_photos_page(live_server, new_context())
    page.get_by_label("Choose a photo").first.set_input_files(
        {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"this is a text file"})
    page.get_by_role("button", name="Add and stay on this page").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("could not be read as a photo")
    expect(page.locator("#photo-1-error")).to_contain_text("could not be read as a photo")
    assert not axe(page, "photos, with errors"), describe(axe(page, "photos, with errors"))


def test_without_javascript_a_plain_file_input_works(live_server, new_context):
    page = open_photos_page(live_server, new_context(javascript=False))
    page.get_by_label("Choose a photo").first.set_input_files(photo_file("plain.jpg"))
    page.locator("#photo-1-caption").fill("Sent without JavaScript")
    press(page, "Next")
    expect(page).to_have_url(re.compile("/intake/review$"))
    expect(page.get_by_role("img", name="Photo 1: Sent without JavaScript")).to_be_visible()


def test_the_photo_page_is_usable_by_keyboard(live_server, new_context):
    page = open_photos_page(live_server, new_context())
    page.locator("#photo-1").focus()
    page.keyboard.press("Tab")
    expect(page.locator("#photo-1-caption")).to_be_focused()
    page.keyboard.type("Typed by keyboard")
    page.keyboard.press("Enter")  # the form's first button, Next: a caption without a photo is questioned
    expect(page.locator("#error-summary")).to_contain_text("Choose a photo for this caption")
    page.locator("#photo-1-caption").fill("")
    page.locator("#photo-1-caption").press("Enter")
    expect(page).to_have_url(re.compile("/intake/review$"))


def test_a_physician_sees_the_photos_on_the_detail_page_and_it_passes_axe(live_server, new_context):
    from tests.e2e.staffing import DESKTOP, create_staff, sign_in, spanish_submission
    from tests.photo_support import add_submission_photo

    submission = spanish_submission(live_server.app, last_name="Fotografía")
    add_submission_photo(live_server.app, submission.id, caption="Cicatriz en la barbilla")
    create_staff(live_server.app, "photos.physician@clinic.example", "physician")
    page = new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "photos.physician@clinic.example")
    page.goto(f"{live_server.url}/staff/submissions/{submission.id}")
    image = page.get_by_role("img", name="Photo 1: Cicatriz en la barbilla")
    expect(image).to_be_visible()
    image.scroll_into_view_if_needed()  # loading="lazy": fetched (and audited) only when looked at
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert not axe(page, "staff submission, with photos"), describe(axe(page, "staff submission, with photos"))
    screenshot(page, "staff-detail-photos.png", full_page=True)
