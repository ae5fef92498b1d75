"""Benchmark PDF rendering: 50 distinct generated submissions, ours vs naive WeasyPrint, same run.

    .venv/bin/python bench/pdf.py [--count 50]

Prints the median and p95 per PDF for:
  ours    the app's Renderer (one parsed CSS, one FontConfiguration, tagged pdf/ua-1 as configured)
  plain   the same Renderer without pdf/ua-1, to show what tagging costs
  naive   weasyprint.HTML(string=<same HTML, stylesheet inline>).write_pdf(), fresh each time
and the ratios ours/naive and ours/plain. Targets: median <= 150 ms, ours/naive <= 0.8.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args()

    import weasyprint
    from pypdf import PdfReader

    from intake import create_app, demo, pdf, summary
    from intake.cli import upgrade_database
    from intake.store import submissions

    folder = Path(tempfile.mkdtemp())
    app = create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "bench", "CLINIC_NAME": "Bench Clinic"})
    upgrade_database(app.config["DATABASE_URL"])
    store = app.extensions["intake.store"]
    demo.insert(store, args.count, seed=2026)
    css = (pdf.ASSETS / "summary.css").read_text(encoding="utf-8")
    with app.app_context():
        with store.reading() as session:
            rows = session.query(submissions.Submission).all()
        q = app.extensions["intake.questionnaire"]
        jobs = []
        for row in rows:
            data = summary.build(row, q)
            jobs.append((pdf.summary_html(row, data), data["signature"]["drawing"]))
        ours = pdf.renderer()
        plain = pdf.Renderer(app.config["PDF_PAGE_SIZE"], None)
        ours.write(*jobs[0])  # warm up fonts and caches for every path alike
        plain.write(*jobs[0])
        pages = [len(PdfReader(__import__("io").BytesIO(ours.write(*job))).pages) for job in jobs[:5]]

        results: dict[str, list[float]] = {"ours": [], "plain": [], "naive": []}
        for index, (html, signature) in enumerate(jobs):
            inline = html.replace("</head>", f"<style>{css}@page {{ size: Letter; }}</style></head>")
            paths = [("naive", lambda h=inline: weasyprint.HTML(string=h).write_pdf()),
                     ("ours", lambda h=html, s=signature: ours.write(h, s)),
                     ("plain", lambda h=html, s=signature: plain.write(h, s))]
            # Interleaved so machine load hits every path alike, in a rotating order, with garbage
            # collected first: otherwise whichever path runs after the others pays for their garbage.
            for name, job in paths[index % 3:] + paths[:index % 3]:
                gc.collect()
                results[name].append(timed(job))

    print(f"{args.count} distinct submissions, {min(pages)}-{max(pages)} pages each, WeasyPrint {weasyprint.__version__}, "
          f"variant {app.config['PDF_VARIANT']}, fast subsetting: {pdf.fast_subsetting()}")
    for name, values in results.items():
        print(f"  {name:6} median {statistics.median(values) * 1000:6.1f} ms   p95 {percentile(values, 0.95) * 1000:6.1f} ms")
    ratio = statistics.median(results["ours"]) / statistics.median(results["naive"])
    ua = statistics.median(results["ours"]) / statistics.median(results["plain"])
    print(f"  ratio ours/naive (median): {ratio:.2f}   (target <= 0.80)")
    print(f"  cost of pdf/ua-1 tagging, ours/plain (median): {ua:.2f}x   (kept only while < 1.15)")
    app.extensions["intake.store"].engine.dispose()


if __name__ == "__main__":
    main()
