"""The physician's PDF, page by page: page 1 complete and on one page, skin type on its real scale, page 2's columns."""

from __future__ import annotations

import re
import subprocess

import pytest

from intake import pdf
from tests.test_pdf import pdf_text, store_submission
from tests.vignettes import DARK, EIGHT_ITEMS, VIGNETTES, healthy, toxin_row
from tests.walk import EXPECTED

PAGE_ONE = ["SCREENING", "ALLERGIES", "HEALTH", "NEUROTOXIN HISTORY", "CONCERNS AND GOALS", "SKIN TYPE"]


def render(app, answers, **kwargs):
    submission = store_submission(app, answers, **kwargs)
    with app.app_context():
        data = pdf.render_summary(submission)
    return submission, data


def page_texts(data: bytes) -> list[str]:
    _text, reader = pdf_text(data)
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


@pytest.mark.parametrize("name", ["walk-through patient", *VIGNETTES])
def test_page_one_holds_every_block_for_a_typical_patient(app, name):
    answers = EXPECTED if name == "walk-through patient" else VIGNETTES[name][0]
    _submission, data = render(app, answers)
    first, second, *_ = page_texts(data)
    positions = [first.index(heading) for heading in PAGE_ONE]
    assert positions == sorted(positions), "page 1 follows CLINICAL.md, with Health after the allergies"
    assert "patient-estimated, physician to confirm" in first
    assert second.startswith("EVERY ANSWER"), "page 1 does not spill onto page 2"


def test_the_health_block_shows_conditions_medications_smoking_and_pregnancy(app):
    answers = healthy(conditions=["diabetes_controlled", "epilepsy"], medications=["anticoagulant"],
                      other_medications="Metformin 500 mg twice a day", smoking="current", pregnancy="breastfeeding")
    first = page_texts(render(app, answers)[1])[0]
    health = first[first.index("HEALTH"):first.index("NEUROTOXIN HISTORY")]
    assert "Conditions Diabetes that is well controlled; Epilepsy or seizures" in health
    assert "Medications Blood thinners (for example warfarin, apixaban, clopidogrel)" in health
    assert "Other medications “Metformin 500 mg twice a day”" in health, "quoted as typed"
    assert "Smoking Yes Pregnancy / breastfeeding: I am breastfeeding" in health


def test_the_health_block_says_none_reported_and_not_asked(app):
    first = page_texts(render(app, healthy(sex_at_birth="male", pregnancy=None))[1])[0]
    health = first[first.index("HEALTH"):first.index("NEUROTOXIN HISTORY")]
    assert "Conditions none reported" in health and "Medications none reported" in health
    assert "Pregnancy / breastfeeding: not asked (male at birth)" in health
    assert "Other medications" not in health


def test_long_free_text_and_many_treatments_continue_under_every_answer(app):
    goals = "I would like softer lines. " * 60
    treatments = [toxin_row(100 + 90 * n, neurotoxin_weeks_lasted=12) for n in range(7)]
    pages = page_texts(render(app, healthy(goals=goals.strip(), neurotoxin_ever=True, neurotoxin=treatments,
                                           neurotoxin_full_result="yes"))[1])
    first, rest = pages[0], " ".join(pages[1:])
    assert "SKIN TYPE" in first and "EVERY ANSWER" not in first
    assert "(cut: the whole text is under Every answer)" in first
    assert "3 earlier treatments under Every answer." in first
    assert goals.strip() in rest and "Treatment #7" in rest


def test_skin_type_prints_the_published_0_to_40_scale(app):
    first = page_texts(render(app, healthy(**DARK))[1])[0]
    assert "Fitzpatrick V (score 33/40; type V = 28–34), patient-estimated, physician to confirm" in first
    assert "/32" not in first


def test_an_eight_item_submission_prints_its_own_scale_and_the_types_it_allows(app):
    """Questionnaire 2026.11.1 asked 8 items: its 27/32 is never rescaled; the 0-40 score lies between 27 and 35."""
    old = {k: v for k, v in healthy(**DARK).items() if k not in EIGHT_ITEMS}
    first = page_texts(render(app, old)[1])[0]
    assert ("Fitzpatrick IV–VI (8 of the 10 items were asked: 27/32, so the 0–40 score is 27–35), "
            "patient-estimated, physician to confirm") in first


# --- page 2 ----------------------------------------------------------------------------------------------------------

def raw_text(data: bytes, tmp_path) -> str:
    """pdftotext -raw: the text in the order the page draws it, which is the order of its tagged structure."""
    path = tmp_path / "summary.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_every_answer_reads_down_each_column(app, tmp_path):
    _submission, data = render(app, EXPECTED)
    text = raw_text(data, tmp_path)
    answers = text[text.index("EVERY ANSWER"):]
    lines = [line.strip() for line in answers.splitlines()]
    # Each label is followed by its own value on the same line, and by the next label of its own column.
    about = ["First name Maria", "Last name López", "Preferred name Mari", "Date of birth 1986-04-12", "Sex at birth Female"]
    start = lines.index(about[0])
    assert lines[start:start + len(about)] == about
    # The left column (About you ...) is read to its end before the right column (Your skin and goals ...).
    order = [answers.index(s) for s in ("About you", "Your health", "Past Botox and similar treatments",
                                        "Your skin and goals", "Consent and signature")]
    assert order == sorted(order)
    assert answers.index("Typed signature") > answers.index("Other medications")


def _left_column_lines(data: bytes, tmp_path) -> list[float]:
    """The top of every line of text in page 2's left column, above the footer, from pdftotext -bbox."""
    path = tmp_path / "bbox.pdf"
    path.write_bytes(data)
    html = subprocess.run(["pdftotext", "-bbox", "-f", "2", "-l", "2", str(path), "-"],
                          capture_output=True, text=True, check=True).stdout
    width, height = (float(v) for v in re.search(r'<page width="([\d.]+)" height="([\d.]+)"', html).groups())
    words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"', html)
    return sorted({round(float(y), 1) for x, y in words if float(x) < width / 2 and float(y) < height - 60})


def test_rows_are_as_tall_as_their_own_text(app, tmp_path):
    """A one-line answer takes one line, whatever stands beside it in the other column (rows used to stretch).

    Down the left column, lines follow each other a line apart (a wrapped answer), a row apart (the next answer)
    or a heading apart. A row stretched to its neighbour's height leaves a gap of a row plus a blank line.
    """
    _submission, data = render(app, EXPECTED)
    lines = _left_column_lines(data, tmp_path)[1:]  # from the first section title down
    pitches = [round(b - a, 1) for a, b in zip(lines, lines[1:], strict=False)]
    line = min(pitches)
    row = max(set(pitches), key=pitches.count)  # the commonest: one-line answers one after the other
    assert row < line * 1.5
    stretched = [p for p in pitches if p > row + 0.8 * line]
    assert not stretched, f"rows stretched beyond their text: {pitches}"


def test_what_overflows_page_one_continues_in_order_and_every_answer_starts_on_a_fresh_page(app):
    """An extreme patient (over twenty flags, five treatments): nothing of page 1 is lost or reordered."""
    answers = healthy(
        pregnancy="breastfeeding", conditions=["diabetes_uncontrolled", "bleeding_disorder", "autoimmune", "neuromuscular"],
        skin_conditions=["cold_sores", "keloid", "active_acne", "sunburn_tan"], allergies=["lidocaine", "cows_milk", "latex"],
        medications=["anticoagulant", "nsaid_supplement", "aminoglycoside_relaxant"], neurotoxin_ever=True,
        neurotoxin_full_result="no", neurotoxin=[toxin_row(10 + 120 * n, neurotoxin_weeks_lasted=5) for n in range(5)])
    submission, data = render(app, answers)
    pages = page_texts(data)
    assert len(submission.flags) > 15
    page_one_blocks = " ".join(pages[:2])
    assert [page_one_blocks.index(h) for h in PAGE_ONE] == sorted(page_one_blocks.index(h) for h in PAGE_ONE)
    for flag in submission.flags:
        assert flag["message"] in page_one_blocks
    assert "EVERY ANSWER" not in page_one_blocks and pages[2].startswith("EVERY ANSWER")
    assert "1 earlier treatment under Every answer." in page_one_blocks
