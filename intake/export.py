"""Exports: CSV, NDJSON, a FHIR R4 Bundle and a ZIP of PDFs, as byte generators in constant memory.

Small exports stream in the request; the ZIP and large ones are built by a worker (export_jobs).

Columns and FHIR items come from the questionnaire definition; nothing here
names a question. Every format is a generator of bytes over rows that the
store yields a batch at a time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import audit, fhir, questionnaire_ext, zonemap
from . import photos as photo_mod
from .conditions import is_empty
from .crypto import files
from .db import get_store
from .fhir import canonical_url, code_system
from .questionnaire import Question, Questionnaire
from .store import Store, search

log = logging.getLogger(__name__)

FORMATS = {
    "contacts": ("Contact list (CSV): names, contact details, visit dates, status and flag counts, no answers",
                 "text/csv", "csv"),
    # Flask adds "; charset=utf-8" to every text/* type: naming it here too printed it twice.
    "csv": ("CSV for spreadsheets, every answer", "text/csv", "csv"),
    "ndjson": ("NDJSON, one JSON record per line", "application/x-ndjson", "ndjson"),
    "fhir": ("FHIR R4 Bundle of QuestionnaireResponses", "application/fhir+json", "json"),
    "pdf-zip": ("ZIP of the PDF summaries", "application/zip", "zip"),
}
# Minimum necessary (DESIGN.md, Privacy): the one table of who may take which format. The export page, the
# URL and any job that runs an export check it through may_export(); the CLI is an operator tool (see README).
FORMAT_PERMISSIONS = {
    "contacts": "export",  # every staff role: administrative columns only
    "csv": "export_clinical",  # physicians and administrators: answers, flags, PDFs
    "ndjson": "export_clinical",
    "fhir": "export_clinical",
    "pdf-zip": "export_clinical",
}
# The answers the front desk needs to reach a patient; nothing medical. Kept in step with consultation.yaml.
CONTACT_ANSWERS = ("first_name", "last_name", "preferred_name", "phone", "email", "preferred_contact")
META_COLUMNS = ("reference", "submission_id", "submitted_at", "status", "reviewed_at",
                "questionnaire_version", "language", "has_stop_flags", "flags")
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# ...except an international phone number: "+", digits, spaces, ( ) . - and nothing else. It names no function,
# cell or other file (no letters, no second "+"), so it cannot act; the guard must not turn it into '+1 617 555 0134.
PHONE_NUMBER = re.compile(r"\+[0-9][0-9 ().\-]{5,24}")
FLUSH_BYTES = 64 * 1024


class ExportError(ValueError):
    """A request the person can fix; the message says how."""


def may_export(fmt: str, can: Callable[[str], bool]) -> bool:
    """Whether a person with these permissions may take this format (unknown formats: nobody)."""
    permission = FORMAT_PERMISSIONS.get(fmt)
    return permission is not None and can(permission)


def formats_for(can: Callable[[str], bool]) -> dict[str, tuple[str, str, str]]:
    """The formats this person may take, in page order."""
    return {fmt: spec for fmt, spec in FORMATS.items() if may_export(fmt, can)}


# --- dates -------------------------------------------------------------------------------------------------------

def clinic_zone() -> dt.tzinfo:
    try:
        return ZoneInfo(current_app.config.get("CLINIC_TIMEZONE") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def clinic_today() -> dt.date:
    return dt.datetime.now(clinic_zone()).date()


def _day(text: str, label: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ExportError(f"The “{label}” date should look like 2026-01-31.") from None


# --- cells -------------------------------------------------------------------------------------------------------

def safe_cell(text: str) -> str:
    """Defuse spreadsheet formulas: a cell that starts like one is prefixed with ' (a phone number is left as typed)."""
    return "'" + text if text.startswith(FORMULA_STARTS) and not PHONE_NUMBER.fullmatch(text) else text


_DANGER = frozenset(FORMULA_STARTS)


def cell(value: Any) -> str:
    """One answer as CSV text. The hottest function of an export: cheap checks first."""
    kind = type(value)
    if kind is str:
        if not value:
            return ""
        if value[0] in _DANGER:
            return value if value[0] == "+" and PHONE_NUMBER.fullmatch(value) else "'" + value
        return "drawn (PNG in NDJSON/FHIR export)" if value.startswith("data:image/") else value
    if value is None:
        return ""
    if kind is bool:
        return "yes" if value else "no"
    text = "; ".join(map(str, value)) if kind is list else str(value)
    return "'" + text if text and text[0] in _DANGER else text


def flags_text(flags: list | None) -> str:
    return "; ".join(f"{f.get('severity', '')}: {f.get('rule_id', '')}" for f in flags or ())


@dataclass(frozen=True)
class Segment:
    link_id: str
    items: tuple[str, ...] = ()  # set for a group: its items' link_ids
    repeats: int = 0
    zones: tuple[str, ...] = ()  # set for a zone map: one column per zone, listing its concerns


def plan(q: Questionnaire) -> list[Segment]:
    return [Segment(x.link_id, tuple(i.link_id for i in x.items), x.max_repeats if x.repeats else 1)
            if x.type == "group" else Segment(x.link_id, zones=tuple(z.code for z in x.zones)) if x.type == "zone-map"
            else Segment(x.link_id) for x in q.questions()]


def columns(q: Questionnaire) -> list[str]:
    """Every CSV column: the record's own, then one per link_id in order; groups flattened as group_1_item."""
    names = list(META_COLUMNS)
    for seg in plan(q):
        if seg.zones:
            names.extend(f"{seg.link_id}_{zone}" for zone in seg.zones)
            continue
        if not seg.items:
            names.append(seg.link_id)
            continue
        for n in range(1, seg.repeats + 1):
            names.extend(f"{seg.link_id}_{n}_{item.removeprefix(seg.link_id + '_')}" for item in seg.items)
    return names


def runs(segments: list[Segment]) -> list[tuple[str, ...] | Segment]:
    """Consecutive plain questions merged into one tuple, so a row is built with few, tight loops."""
    out: list[tuple[str, ...] | Segment] = []
    for seg in segments:
        if seg.items or seg.zones:
            out.append(seg)
        elif out and isinstance(out[-1], tuple):
            out[-1] += (seg.link_id,)
        else:
            out.append((seg.link_id,))
    return out


def csv_cells(row: Any, plan_runs: list[tuple[str, ...] | Segment]) -> list[str]:
    answers = zonemap.current(row.answers or {})
    get = answers.get
    out = [row.reference, row.id, _iso(row.submitted_at), row.status, _iso(row.reviewed_at),
           row.questionnaire_version, row.language, "yes" if row.has_stop_flags else "no", safe_cell(flags_text(row.flags))]
    for run in plan_runs:
        if type(run) is tuple:
            out.extend([cell(get(link_id)) for link_id in run])
            continue
        if run.zones:
            marked = get(run.link_id)
            marked = marked if isinstance(marked, dict) else {}
            out.extend([cell(marked.get(zone)) for zone in run.zones])
            continue
        entries = get(run.link_id) or []
        if isinstance(entries, dict):
            entries = [entries]
        filled = min(len(entries), run.repeats)
        for entry in entries[:filled]:
            entry_get = (entry or {}).get
            out.extend([cell(entry_get(i)) for i in run.items])
        out.extend([""] * (len(run.items) * (run.repeats - filled)))
    return out


def _iso(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if value else ""


# --- formats -----------------------------------------------------------------------------------------------------

def stream_csv(rows: Iterable[Any], q: Questionnaire) -> Iterator[bytes]:
    segments = runs(plan(q))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # so Excel reads accents as UTF-8
    writer.writerow(columns(q))
    for row in rows:
        writer.writerow(csv_cells(row, segments))
        if buffer.tell() >= FLUSH_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def contact_columns() -> list[str]:
    from .screening import SEVERITIES

    return ["reference", *CONTACT_ANSWERS, "visit_date", "status", *(f"flags_{s}" for s in SEVERITIES)]


def stream_contacts(rows: Iterable[Any], q: Questionnaire) -> Iterator[bytes]:
    """The front desk's CSV: who, how to reach them, when they visit, and how many flags of each severity."""
    from .screening import SEVERITIES

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(contact_columns())
    for row in rows:
        answers = row.answers or {}
        severities = [f.get("severity") for f in row.flags or ()]
        writer.writerow([row.reference, *(cell(answers.get(k)) for k in CONTACT_ANSWERS), cell(answers.get("visit_date")),
                         row.status, *(str(severities.count(s)) for s in SEVERITIES)])
        if buffer.tell() >= FLUSH_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def record(row: Any) -> dict[str, Any]:
    return {
        "submission_id": row.id, "reference": row.reference, "questionnaire": row.questionnaire_id,
        "questionnaire_version": row.questionnaire_version, "submitted_at": _iso(row.submitted_at), "status": row.status,
        "reviewed_at": _iso(row.reviewed_at) or None, "language": row.language, "has_stop_flags": bool(row.has_stop_flags),
        "flags": row.flags or [], "answers": row.answers or {},
    }


def stream_ndjson(rows: Iterable[Any], q: Questionnaire) -> Iterator[bytes]:
    chunk: list[str] = []
    size = 0
    for row in rows:
        line = json.dumps(record(row), ensure_ascii=False, separators=(",", ":")) + "\n"
        chunk.append(line)
        size += len(line)
        if size >= FLUSH_BYTES:
            yield "".join(chunk).encode("utf-8")
            chunk, size = [], 0
    yield "".join(chunk).encode("utf-8")


def _fhir_answers(q: Questionnaire, question: Question, value: Any) -> list[dict[str, Any]]:
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values:
        if question.type == "boolean":
            out.append({"valueBoolean": bool(v)})
        elif question.type == "integer":
            out.append({"valueInteger": int(v)})
        elif question.type == "decimal":
            out.append({"valueDecimal": v})
        elif question.type == "date":
            out.append({"valueDate": str(v)})
        elif question.type == "attachment":
            content_type, _sep, data = str(v).partition(";base64,")
            out.append({"valueAttachment": {"contentType": content_type.removeprefix("data:"), "data": data}})
        elif (choice := question.choice(str(v))) is not None:
            coding = {"system": code_system(q, question.link_id), "code": choice.code, "display": choice.label}
            out.append({"valueCoding": coding})
        else:
            out.append({"valueString": str(v)})
    return out


def _fhir_zones(q: Questionnaire, question: Question, value: Any) -> list[dict[str, Any]]:
    """A zone map: one coded answer per marked zone, its concerns nested under it (fhir.zone_map_item)."""
    answers = []
    for zone in question.zones:
        concerns = [c for c in question.choices if c.code in set((value or {}).get(zone.code) or ())]
        if concerns:
            answers.append({
                "valueCoding": {"system": code_system(q, question.link_id), "code": zone.code, "display": zone.label},
                "item": [{"linkId": fhir.concern_link_id(question), "text": fhir.CONCERN_TEXT, "answer": [
                    {"valueCoding": {"system": code_system(q, fhir.concern_link_id(question)), "code": c.code,
                                     "display": c.label}} for c in concerns]}],
            })
    return answers


def _fhir_item(q: Questionnaire, question: Question, value: Any) -> list[dict[str, Any]]:
    if is_empty(value):
        return []
    if question.type == "zone-map":
        answers = _fhir_zones(q, question, value if isinstance(value, dict) else {})
        return [{"linkId": question.link_id, "text": question.text, "answer": answers}] if answers else []
    if question.type == "group":
        entries = value if isinstance(value, list) else [value]
        items = []
        for entry in entries:
            children = [c for item in question.items for c in _fhir_item(q, item, (entry or {}).get(item.link_id))]
            if children:
                items.append({"linkId": question.link_id, "text": question.text, "item": children})
        return items
    return [{"linkId": question.link_id, "text": question.text, "answer": _fhir_answers(q, question, value)}]


def questionnaire_response(row: Any, q: Questionnaire, photos: list | None = None) -> dict[str, Any]:
    """One submission as a FHIR R4 QuestionnaireResponse, grouped by section like the Questionnaire."""
    answers = zonemap.current(row.answers or {})
    sections = []
    for section in q.sections:
        items = [i for question in section.questions for i in _fhir_item(q, question, answers.get(question.link_id))]
        if photos and fhir.photo_items(section):  # issue 13: the patient's photos, as attachments
            items.append({"linkId": photo_mod.FHIR_LINK_ID, "text": photo_mod.FHIR_TEXT,
                          "answer": [{"valueAttachment": photo_mod.fhir_attachment(p)} for p in photos]})
        if items:
            sections.append({"linkId": fhir.section_link_id(section), "text": section.title, "item": items})
    canonical = canonical_url(row.questionnaire_id, current_app.config["FHIR_BASE_URL"])
    return {
        "resourceType": "QuestionnaireResponse", "id": row.id,
        "contained": [fhir.patient(answers, row.language)],
        "identifier": {"system": "urn:intake:reference", "value": row.reference},
        "questionnaire": f"{canonical}|{row.questionnaire_version}",
        "status": "completed", "subject": {"reference": f"#{fhir.PATIENT_ID}", "type": "Patient"},
        "authored": _iso(row.submitted_at), "item": sections,
    }


def stream_fhir(rows: Iterable[Any], q: Questionnaire) -> Iterator[bytes]:
    head = {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "collection",
            "timestamp": _iso(dt.datetime.now(dt.UTC))}
    yield (json.dumps(head, separators=(",", ":"))[:-1] + ',"entry":[').encode("utf-8")
    separator = ""
    from .store import photos as photos_store

    with_photos = photos_store.any_submitted(get_store())  # one look-up, not one per row, when no one sent photos
    for row in rows:
        photos = photos_store.for_submission(get_store(), row.id, with_data=True) if with_photos else None
        entry = {"fullUrl": f"urn:uuid:{row.id}", "resource": questionnaire_response(row, q, photos)}
        yield (separator + json.dumps(entry, ensure_ascii=False, separators=(",", ":"))).encode("utf-8")
        separator = ","
    yield b"]}"


class _Sink(io.RawIOBase):
    """A write-only, non-seekable file: zipfile writes into it, we hand the bytes on and forget them."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def stream_pdf_zip(submissions: Iterable[Any], q: Questionnaire) -> Iterator[bytes]:
    """One PDF per submission plus index.csv; a PDF that cannot be made becomes a note saying what to do."""
    from . import renders

    sink = _Sink()
    # In memory, never a temporary file: the index names patients, and nothing unencrypted may touch the disk.
    index = io.StringIO(newline="")
    writer = csv.writer(index)
    writer.writerow(["file", "reference", "patient", "date_of_birth", "visit_date", "submitted_at"])
    with index, zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for s in submissions:
            name = f"intake-{s.reference}.pdf"
            try:
                data = renders.ensure_pdf(s)
            except Exception:  # noqa: BLE001 - one bad PDF must not sink the other thousands
                log.error("PDF for %s failed during export", s.id)
                name = f"intake-{s.reference}-NOT-RENDERED.txt"
                archive.writestr(name, "This PDF could not be made during the export. Open the submission in the "
                                       "staff workspace and press “Make a fresh PDF”, then download it there.\n")
            else:
                with archive.open(zipfile.ZipInfo(name, _zip_time(s.submitted_at)), "w", force_zip64=True) as target:
                    target.write(data)
                yield sink.take()
            answers = s.answers or {}
            writer.writerow([safe_cell(v) for v in (name, s.reference, _name(answers), answers.get("date_of_birth", ""),
                                                    answers.get("visit_date", ""), _iso(s.submitted_at))])
            yield sink.take()
        index.seek(0)
        with archive.open("index.csv", "w") as target:
            target.write(b"\xef\xbb\xbf")
            while chunk := index.read(64 * 1024):
                target.write(chunk.encode("utf-8"))
    yield sink.take()


def _name(answers: dict) -> str:
    return " ".join(p for p in (answers.get("first_name", ""), answers.get("last_name", "")) if p)


def _zip_time(when: dt.datetime) -> tuple[int, int, int, int, int, int]:
    local = when.astimezone(clinic_zone())
    return (max(local.year, 1980), local.month, local.day, local.hour, local.minute, local.second)


# --- jobs --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """One export: a format and a range of submission dates (clinic time, both days included)."""

    format: str
    start: dt.date | None
    end: dt.date | None

    @classmethod
    def parse(cls, fmt: str, start: str, end: str) -> Job:
        if fmt not in FORMATS:
            raise ExportError(f"Choose a format: {', '.join(FORMATS)}.")
        first, last = _day(start, "from"), _day(end, "to")
        if first and last and first > last:
            raise ExportError("The “from” date is after the “to” date. Swap them and try again.")
        return cls(fmt, first, last)

    @property
    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        zone = clinic_zone()
        start = dt.datetime.combine(self.start, dt.time(), zone) if self.start else None
        end = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), zone) if self.end else None
        return start, end

    label_from = property(lambda self: self.start.isoformat() if self.start else "")
    label_to = property(lambda self: self.end.isoformat() if self.end else "")
    mimetype = property(lambda self: FORMATS[self.format][1])

    @property
    def filename(self) -> str:
        span = f"{self.label_from or 'start'}-to-{self.label_to or 'now'}"
        return f"intake-{self.format}-{span}.{FORMATS[self.format][2]}"

    def count(self, store: Store) -> int:
        return search.count_between(store, *self.bounds)

    def stream(self, store: Store, progress: Callable[[], None] | None = None) -> Iterator[bytes]:
        q = questionnaire_ext.get()
        source = (search.iter_submissions(store, *self.bounds) if self.format == "pdf-zip"
                  else search.iter_rows(store, *self.bounds))
        if progress:
            source = _counted(source, progress)
        writer = {"contacts": stream_contacts, "csv": stream_csv,
                   "ndjson": stream_ndjson, "fhir": stream_fhir, "pdf-zip": stream_pdf_zip}[self.format]
        return writer(source, q)


def _counted(rows: Iterable[Any], tick: Callable[[], None]) -> Iterator[Any]:
    for row in rows:
        yield row
        tick()


@click.command("export")
@with_appcontext
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), required=True)
@click.option("--from", "start", default="", help="first submission day, YYYY-MM-DD (clinic time)")
@click.option("--to", "end", default="", help="last submission day, YYYY-MM-DD, included")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="file to write (default: output/exports/<name>.enc)")
@click.option("--plaintext", is_flag=True,
              help="write a readable file instead of an encrypted one (needs -o; mode 0600; delete it when done)")
def export_command(fmt: str, start: str, end: str, output: Path | None, plaintext: bool) -> None:
    """Export submissions to a file, encrypted with the data key unless --plaintext, with a progress bar."""
    try:
        job = Job.parse(fmt, start, end)
    except ExportError as exc:
        raise click.BadParameter(str(exc)) from None
    if plaintext and output is None:
        raise click.BadParameter("--plaintext needs -o FILE: say where the readable copy goes.")
    target = output or Path(current_app.instance_path) / "exports" / f"{job.filename}.enc"
    store = get_store()
    count = job.count(store)
    audit.record("export", detail={"format": fmt, "from": job.label_from, "to": job.label_to, "count": count, "via": "cli",
                                   **({"plaintext": True} if plaintext else {})})
    keyring = current_app.extensions["intake.keyring"]
    # Written under a temporary name, 0600, and renamed when whole: a half-written export never sits under the real name.
    opened = files.private_writer(target) if plaintext else files.sealed_writer(target, keyring, "export")
    with click.progressbar(length=count, label=f"Exporting {count} submission(s)") as bar, opened as handle:
        for chunk in job.stream(store, progress=lambda: bar.update(1)):
            handle.write(chunk)
    how = "readable, mode 0600: delete it when done" if plaintext else "encrypted; read it with decrypt-file"
    click.echo(f"Wrote {count} submission(s) to {target} ({how}).")


def init_app(app: Flask) -> None:
    app.cli.add_command(export_command)
