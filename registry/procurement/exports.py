"""Exports: bulk results as CSV/XLSX, and the open-data register as CSV/JSON Lines.

Open-data files state the ledger head (seq and hash) at export time, and are cached per process keyed
by that head and today's date, for at most OPEN_DATA_MAX_AGE seconds: a change to the register always
appends a ledger entry, so a new head means a fresh file.
"""
from __future__ import annotations

import csv
import io
import json
import re
import threading
import time
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from registry import clock, presenters
from registry.certificates.models import Certificate, Company
from registry.certificates.services import effective_status_expr
from registry.extensions import db
from registry.procurement import bulk, services

OPEN_DATA_MAX_AGE = 300
OPEN_DATA_FIELDS = ("number", "company_name", "company_uscc", "province", "city", "industry", "scheme", "level",
                    "score", "status", "issued_on", "expires_on", "first_issued_on", "surveillance_due_on")


# ---------------------------------------------------------------- bulk results

def _formula_safe(value) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; a leading quote keeps user input inert."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def bulk_table(result: bulk.BulkResult) -> tuple[list[str], list[list]]:
    """Header and rows of a bulk result in the user's language (CSV and XLSX share it)."""
    header = [_("Input"), _("Match"), _("Company"), _("Credit code"), _("Certificate number"), _("Scheme"),
              _("Level"), _("Status on %(day)s", day=result.on.isoformat()),
              _("Status today (%(day)s)", day=result.today.isoformat()), _("Expires on"), _("Open complaints"),
              _("Flags"), _("Candidates")]
    rows = []
    for row in result.rows:
        cells = [row.input, match_word(row.match)]
        if row.certificate is None:
            cells += [""] * 10
            cells.append("; ".join(f"{c.company_name} {c.uscc} {c.number}" for c in row.candidates))
        else:
            c = row.certificate
            cells += [c.company.name, c.company.uscc, c.number, presenters.scheme_name(c.scheme_id, short=True),
                      presenters.level_name(c.scheme_id, c.level), on_status_word(row),
                      presenters.status_view(row.status_today).word, c.expires_on.isoformat(),
                      "" if row.open_complaints is None else row.open_complaints,
                      "; ".join(flag_word(f) for f in row.flags), "; ".join(row.other_numbers)]
        rows.append(cells)
    return header, rows


def match_word(match: str) -> str:
    return {bulk.MatchKind.EXACT: _("Exact"), bulk.MatchKind.AMBIGUOUS: _("Ambiguous"),
            bulk.MatchKind.NOT_FOUND: _("Not found")}.get(match, match)


def flag_word(flag: str) -> str:
    return {bulk.Flag.EXPIRES_SOON: _("Expires within 90 days"), bulk.Flag.SUSPENDED: _("Suspended"),
            bulk.Flag.LEVEL_LOWERED: _("Level lowered in the last 12 months"),
            bulk.Flag.NOT_YET_ISSUED: _("Not yet issued on that date")}.get(flag, flag)


def on_status_word(row: bulk.BulkRow) -> str:
    if row.on_state is None:
        return ""
    if not row.on_state.issued:
        return _("Not yet issued")
    return presenters.status_view(row.on_state.status).word


def bulk_csv(result: bulk.BulkResult) -> bytes:
    header, rows = bulk_table(result)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_formula_safe(v) for v in row])
    # The BOM lets spreadsheet programs on Chinese systems open UTF-8 without garbling names.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def bulk_xlsx(result: bulk.BulkResult) -> bytes:
    header, rows = bulk_table(result)
    return xlsx_bytes("verification", header, rows, (24, 10, 30, 22, 18, 14, 10, 14, 14, 12, 8, 30, 30))


# XML 1.0 (and so XLSX) cannot hold C0 control characters other than tab, newline and carriage return.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xlsx_cell(value):
    """A value as it may go into a sheet: numbers as they are; text formula-safe, with the characters XML
    cannot hold replaced by U+FFFD (openpyxl refuses them with an error: a bulk input made that a 500)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return _XML_ILLEGAL.sub("\ufffd", _formula_safe(value))


def xlsx_bytes(title: str, header: list, rows: list[list], widths: tuple[int, ...] = ()) -> bytes:
    """The one XLSX writer: every cell passes xlsx_cell, so no text can make the file unwritable."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append([xlsx_cell(v) for v in header])
    for row in rows:
        sheet.append([xlsx_cell(v) for v in row])
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- open data

@dataclass(frozen=True)
class OpenDataFile:
    body: bytes
    head_seq: int
    head_hash: str
    generated_at: str
    etag: str


_cache: dict[tuple, tuple[float, OpenDataFile]] = {}
_lock = threading.Lock()


def _open_data_rows(today):
    """Plain column reads (no ORM objects) with the status computed in SQL: fast at 100,000 rows."""
    status = effective_status_expr(today).label("status")
    query = (select(Certificate.number, Company.name, Company.uscc, Company.province, Company.city, Company.industry,
                    Certificate.scheme_id, Certificate.level, Certificate.score, status, Certificate.issued_on,
                    Certificate.expires_on, Certificate.first_issued_on, Certificate.surveillance_due_on)
             .join(Company, Company.id == Certificate.company_id).order_by(Certificate.number)
             .execution_options(yield_per=2000))
    for row in db.session.execute(query):
        yield {
            "number": row[0], "company_name": row[1], "company_uscc": row[2], "province": row[3], "city": row[4],
            "industry": row[5], "scheme": row[6], "level": row[7], "score": bulk.score_value(row[8]),
            "status": row[9], "issued_on": _iso(row[10]), "expires_on": _iso(row[11]),
            "first_issued_on": _iso(row[12]), "surveillance_due_on": _iso(row[13]),
        }


def _iso(day) -> str | None:
    return day.isoformat() if day else None


def _build(kind: str, head_seq: int, head_hash: str, today, generated_at: str) -> bytes:
    if kind == "csv":
        out = io.StringIO()
        out.write(f"# ledger_head_seq={head_seq} ledger_head_hash={head_hash} generated_at={generated_at} "
                  f"status_as_of={today.isoformat()}\n")
        writer = csv.DictWriter(out, fieldnames=OPEN_DATA_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in _open_data_rows(today):
            writer.writerow({k: ("" if v is None else _formula_safe(v) if isinstance(v, str) else v)
                             for k, v in row.items()})
        return out.getvalue().encode("utf-8")
    lines = [json.dumps({"export": {"ledger_head_seq": head_seq, "ledger_head_hash": head_hash,
                                    "generated_at": generated_at, "status_as_of": today.isoformat(),
                                    "fields": list(OPEN_DATA_FIELDS)}}, ensure_ascii=False)]
    lines += [json.dumps(row, ensure_ascii=False) for row in _open_data_rows(today)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def open_data(kind: str) -> OpenDataFile:
    """The register as CSV or JSON Lines, stating the ledger head; cached while the head and day hold."""
    head = services.ledger_head()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, "0" * 64)
    today = clock.today()
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"], kind, head_hash, today)
    with _lock:
        cached = _cache.get(key)
        if cached and time.monotonic() - cached[0] < OPEN_DATA_MAX_AGE:
            return cached[1]
    generated_at = clock.now().isoformat(timespec="seconds")
    body = _build(kind, head_seq, head_hash, today, generated_at)
    result = OpenDataFile(body, head_seq, head_hash, generated_at, f"{kind}-{head_hash[:16]}-{today.isoformat()}")
    with _lock:
        # Keep only fresh entries: one per (database, kind) is all a process needs.
        for stale in [k for k in _cache if k[:2] == key[:2]]:
            del _cache[stale]
        _cache[key] = (time.monotonic(), result)
    return result
