"""CSV import: the columns a booking system exports (name, e-mail, phone, date, time), checked row by row.

Headers are matched loosely ("E-mail", "Email address", "Mobile phone", "Appointment date", ...), a
"first name" and "last name" pair makes the name, and one "start" column may hold both date and time.
Comma, semicolon (Spanish spreadsheets) and tab separated files are read; UTF-8 (with or without BOM),
else Windows-1252. The file is bounded in size and rows. Nothing is stored until staff confirm the preview.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field

from . import fields

MAX_BYTES = 200 * 1024
MAX_ROWS = 500
# Folded header (lower case, letters and digits only) -> our field.
HEADERS = {
    "name": ("name", "patient", "patientname", "client", "clientname", "fullname", "customer", "customername",
             "nombre", "paciente", "nombrecompleto"),
    "first_name": ("firstname", "givenname", "forename", "nombrepila"),
    "last_name": ("lastname", "surname", "familyname", "apellido", "apellidos"),
    "email": ("email", "emailaddress", "mail", "correo", "correoelectronico", "clientemail", "patientemail"),
    "mobile": ("phone", "mobile", "mobilephone", "cell", "cellphone", "telephone", "tel", "phonenumber",
               "mobilenumber", "movil", "telefono", "clientphone", "patientphone"),
    "date": ("date", "appointmentdate", "visitdate", "startdate", "day", "fecha", "fechacita"),
    "time": ("time", "appointmenttime", "visittime", "starttime", "hora", "horacita"),
    "start": ("start", "starts", "datetime", "appointment", "appointmentstart", "startdatetime", "when", "inicio"),
    "treatments": ("treatment", "treatments", "service", "services", "appointmenttype", "type", "tratamiento"),
    "language": ("language", "lang", "idioma"),
    "earlier": ("earlierreference", "earlierform", "previousreference", "intakereference"),
}
LOOKUP = {alias: name for name, aliases in HEADERS.items() for alias in aliases}


class ImportError_(ValueError):
    """The file as a whole cannot be read; the message says why."""


@dataclass
class Row:
    number: int  # the line in the file, the header being line 1
    raw: dict  # the values as read, for the preview and the confirm step
    reading: fields.Reading = field(default_factory=fields.Reading)


def fold(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.strip().lower().replace("é", "e").replace("ó", "o").replace("ñ", "n"))


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ImportError_(f"The file is too large: at most {MAX_BYTES // 1024} KB ({MAX_ROWS} appointments) at a time.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def columns(header: list[str]) -> dict[int, str]:
    """Column index -> our field, for the headers we know; the rest are ignored."""
    found: dict[int, str] = {}
    for index, name in enumerate(header):
        ours = LOOKUP.get(fold(name))
        if ours and ours not in found.values():
            found[index] = ours
    return found


def _raw(cells: list[str], mapping: dict[int, str]) -> dict:
    values = {ours: (cells[i].strip() if i < len(cells) else "") for i, ours in mapping.items()}
    if not values.get("name") and (values.get("first_name") or values.get("last_name")):
        values["name"] = " ".join(p for p in (values.get("first_name"), values.get("last_name")) if p)
    start = values.pop("start", "")
    if start and not values.get("date"):
        day, _sep, hour = start.replace("T", " ").partition(" ")
        values["date"], values["time"] = day, values.get("time") or hour
    return {k: values.get(k, "") for k in ("name", "email", "mobile", "date", "time", "treatments", "language", "earlier")}


def parse(text: str) -> list[dict]:
    """The file's rows as raw value dicts (not yet checked); raises ImportError_ when the file cannot be used."""
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise ImportError_("The file is empty.")
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
        mapping = columns(header)
        need = {"name", "first_name", "last_name"} & set(mapping.values())
        if not need or not ({"date", "start"} & set(mapping.values())):
            raise ImportError_("The first line must name the columns, including the patient’s name and the visit date "
                               "(for example: name, e-mail, phone, date, time).")
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportError_(f"The file has more than {MAX_ROWS} appointments. Split it and import each part.")
            rows.append({**_raw(cells, mapping), "line": reader.line_num})
    except csv.Error:
        raise ImportError_("The file could not be read as CSV. Export it again as CSV (comma or semicolon separated).") \
            from None
    if not rows:
        raise ImportError_("The file has a header line but no appointments.")
    return rows


def check(raws: list[dict], *, now: dt.datetime, default_treatments: str, default_language: str) -> list[Row]:
    """Check every row; a row's errors are its own (the others still import)."""
    checked = []
    for number, raw in enumerate(raws, start=2):
        line = raw.get("line")
        number = line if isinstance(line, int) and 0 < line < 10 * MAX_ROWS else number
        raw = {k: str(raw.get(k, ""))[:300] for k in ("name", "email", "mobile", "date", "time", "treatments",
                                                        "language", "earlier")}
        reading = fields.read(raw, now=now, default_treatments=default_treatments, default_language=default_language)
        checked.append(Row(number, raw, reading))
    return checked
