"""Layout a test can only see in a browser: measured widths, gaps, line counts and the fonts actually used."""

from __future__ import annotations

import subprocess
from functools import cache

import pytest
from fontTools.ttLib import TTFont
from playwright.sync_api import Page, expect

from intake import screening
from intake.store import submissions
from tests.e2e.browsing import fill, next_page
from tests.e2e.conftest import PHONE
from tests.e2e.staffing import DESKTOP, create_staff, sign_in
from tests.vignettes import SCRIPT_NAMES, multiscript
from tests.walk import PAGES

pytestmark = pytest.mark.browser


def walk_to_review(page: Page, base: str, about: dict | None = None) -> None:
    page.goto(base + "/")
    page.get_by_role("button", name="Start").click()
    fill(page, {**PAGES["about-you"], **(about or {})})
    next_page(page, "/intake/medical-history")
    fill(page, PAGES["medical-history"])
    next_page(page, "/intake/neurotoxin")
    fill(page, PAGES["neurotoxin"])
    next_page(page, "/intake/skin")
    fill(page, PAGES["skin"])
    next_page(page, "/intake/review")


def test_a_treatment_on_the_review_page_has_no_blank_space_between_its_items(live_server, new_context):
    """`.answers dd { white-space: pre-wrap }` must not reach the nested list, whose template whitespace would show."""
    page = new_context().new_page()
    walk_to_review(page, live_server.url)
    # The largest vertical gap between two items of a treatment, and between the treatment's title and its list.
    gaps = page.evaluate("""() => [...document.querySelectorAll('.answers-nested')].map(list => {
        const boxes = [list.parentElement.previousElementSibling, ...list.children].map(c => c.getBoundingClientRect());
        return Math.max(...boxes.slice(1).map((box, i) => box.top - boxes[i].bottom)); })""")
    assert len(gaps) == 2  # two treatments
    # An item's own top margin is 0.75rem (13 px); the bug left blank lines of ~25 px each between items.
    assert all(gap <= 14 for gap in gaps), gaps


def test_the_product_drop_down_shows_the_longest_product_name_on_a_phone(live_server, new_context):
    """Measured in the font the page uses and in DejaVu Sans, the widest common fallback (it cut the name off)."""
    page = new_context(viewport=PHONE).new_page()
    walk_to_review(page, live_server.url)
    page.goto(live_server.url + "/intake/neurotoxin")
    select = page.locator('select[name="neurotoxin-0-neurotoxin_product"]')
    expect(select).to_be_visible()
    room, needed, longest = select.evaluate("""s => {
        const style = getComputedStyle(s);
        const context = document.createElement('canvas').getContext('2d');
        const labels = [...s.options].map(o => o.text);
        const measure = font => { context.font = font; return labels.map(t => context.measureText(t).width); };
        const own = measure(`${style.fontWeight} ${style.fontSize} ${style.fontFamily}`);
        const wide = measure(`${style.fontWeight} ${style.fontSize} "DejaVu Sans"`);
        const widths = own.map((w, i) => Math.max(w, wide[i]));
        const widest = Math.max(...widths);
        // The text box: the select's inner width less its padding and the drop-down arrow (about 20 px).
        const inner = s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
        return [inner, widest, labels[widths.indexOf(widest)]]; }""")
    assert "Dysport (abobotulinumtoxinA)" in [o for o in select.locator("option").all_inner_texts()]
    assert needed <= room, f"{longest!r} needs {needed:.0f} px, the drop-down shows {room:.0f} px"


def test_the_staff_menu_stays_on_one_line_at_1280_px(live_server, new_context):
    # A long but ordinary address: the signed-in e-mail shares the header row with the menu.
    create_staff(live_server.app, "frontdesk.manager@harbour-clinic.example", "admin")
    page = new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "frontdesk.manager@harbour-clinic.example")
    links = page.evaluate("""() => [...document.querySelectorAll('.staff-nav a')].map(a => {
        const text = document.createRange(); text.selectNodeContents(a);
        return {name: a.textContent.trim(), lines: new Set([...text.getClientRects()].map(r => Math.round(r.top))).size,
                top: Math.round(a.getBoundingClientRect().top)}; })""")
    assert "Audit trail" in [link["name"] for link in links]
    assert all(link["lines"] == 1 for link in links), links
    assert len({link["top"] for link in links}) == 1, f"the menu wraps onto a second row: {links}"


@pytest.mark.parametrize("path", ["/staff/", "/staff/drafts", "/staff/export", "/staff/appointments/",
                                  "/staff/appointments/new", "/staff/appointments/import"])
def test_staff_pages_fit_a_375_px_phone(live_server, new_context, path):
    email = f"layout.phone{path.replace('/', '.')}@clinic.example"
    create_staff(live_server.app, email, "staff")
    page = new_context(viewport=PHONE).new_page()
    sign_in(page, live_server.url, email)
    page.goto(live_server.url + path)
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => {
        const r = e.getBoundingClientRect(); return r.right > window.innerWidth + 0.5 && !e.closest('.table-scroll');
      }).slice(0, 5).map(e => e.tagName + '.' + e.className)""")
    assert width <= PHONE["width"], f"{path} is {width} px wide on a {PHONE['width']} px phone: {wide}"


# --- every script, on the pages ----------------------------------------------------------------------------------

@cache
def _font_file(family: str) -> str:
    return subprocess.run(["fc-match", "-f", "%{file}", family], capture_output=True, text=True, check=True).stdout


@cache
def _cmap(family: str) -> frozenset[int]:
    path = _font_file(family)
    font = TTFont(path, fontNumber=0) if path.endswith((".ttc", ".otc")) else TTFont(path)
    return frozenset(font.getBestCmap())


def _fonts_used(page: Page, selector: str) -> list[str]:
    """The platform fonts Chromium drew the element's text with (DevTools' "Rendered fonts")."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return [f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]]


def _undrawn(text: str, families: list[str]) -> set[str]:
    """Characters none of the fonts used has a glyph for: Chromium drew them as empty boxes."""
    covered = set().union(*(_cmap(f) for f in families)) if families else set()
    return {c for c in text if not c.isspace() and ord(c) not in covered and not 0xFE00 <= ord(c) <= 0xFE0F}


def test_every_script_is_drawn_with_real_glyphs_on_the_staff_page(live_server, new_context):
    store = live_server.app.extensions["intake.store"]
    answers = multiscript()
    with live_server.app.app_context():
        flags = screening.flag_dicts(answers, screening.dt.date.today())
        submission, _ = submissions.submit(store, submit_token="scripts" * 4, questionnaire_id="consultation",
                                           questionnaire_version="2026.12.1", answers=answers, flags=flags)
    create_staff(live_server.app, "layout.scripts@clinic.example", "physician")
    page = new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "layout.scripts@clinic.example")
    page.goto(f"{live_server.url}/staff/submissions/{submission.id}")
    page.evaluate("""names => { const probe = document.createElement('p'); probe.id = 'script-probe';
        probe.textContent = names; document.querySelector('main').prepend(probe); }""", " ".join(SCRIPT_NAMES.values()))
    expect(page.get_by_role("heading", level=1)).to_contain_text("山田 太郎")
    for selector, text in (("#script-probe", " ".join(SCRIPT_NAMES.values())), ("h1", page.locator("h1").inner_text())):
        families = _fonts_used(page, selector)
        assert _undrawn(text, families) == set(), (selector, families)


def test_every_script_is_drawn_with_real_glyphs_on_the_patients_review_page(live_server, new_context):
    page = new_context().new_page()
    names = {"first_name": SCRIPT_NAMES["Arabic"], "last_name": SCRIPT_NAMES["Japanese"],
             "preferred_name": SCRIPT_NAMES["Hebrew"], "emergency_contact_name": SCRIPT_NAMES["Devanagari"],
             "visit_reason": " ".join(SCRIPT_NAMES.values())}
    walk_to_review(page, live_server.url, names)
    reason = page.locator(".answers dd", has_text=SCRIPT_NAMES["Thai"]).first
    expect(reason).to_be_visible()
    reason.evaluate("e => e.id = 'reason-probe'")
    assert _undrawn(" ".join(SCRIPT_NAMES.values()), _fonts_used(page, "#reason-probe")) == set()
