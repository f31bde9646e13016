"""Bulk verification: read identifiers from a paste, a CSV or an XLSX file, and check each one.

Reading is pure (bytes/text in, list of strings out, ValueError with a stable code on bad input).
Checking uses the same lookup as the verify box (`certificates.services.lookup`, batched as
`lookup_many`: numbers, credit codes and names alike cost a few queries for the whole list), then answers each row
with the status on the asked day (from the ledger) and today, and the flags a bid evaluator looks for.
Matched certificates' ledger entries and companies are loaded in one query each, so 1,000 rows cost
a handful of queries whatever their mix.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.parsers.expat
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from registry import clock
from registry.certificates import history
from registry.certificates.identifiers import fold, is_valid_uscc
from registry.certificates.models import Certificate, Company, status_policy
from registry.certificates.rules import CertificateStatus, StatusPolicy
from registry.certificates.services import lookup_many
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from registry.schemes import get_scheme

PAGE_MAX_IDENTIFIERS = 500
API_MAX_IDENTIFIERS = 1000
MAX_IDENTIFIER_LENGTH = 200
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UNPACKED_XLSX_BYTES = 40 * 1024 * 1024
# What an XLSX may hold before it is refused unread: a 500-row list of bidders needs a few thousand of
# each. Measured on 2 cores, a file at every cap costs well under 0.5 s CPU to scan and read; without
# them a 92 KB file of 2.2 million shared strings cost 12 s and 283 MB.
MAX_XLSX_SHARED_STRINGS = 20_000
MAX_XLSX_CELLS = 30_000
MAX_XLSX_ROWS = 5_000
MAX_XLSX_ELEMENTS = 250_000
EXPIRY_WARNING_DAYS = 90
LEVEL_LOOKBACK_DAYS = 365
MAX_CANDIDATES = 10

# A first row made only of words like these is a header, not an identifier.
HEADER_WORDS = {fold(w) for w in (
    "证书编号", "证书号", "统一社会信用代码", "信用代码", "企业名称", "公司名称", "单位名称", "名称", "投标人", "供应商",
    "序号", "number", "certificate", "certificate number", "uscc", "credit code", "name", "company", "company name",
    "identifier", "supplier", "bidder", "no", "#")}


class MatchKind:
    EXACT = "exact"
    AMBIGUOUS = "ambiguous"
    NOT_FOUND = "not_found"


# ---------------------------------------------------------------- reading input (pure)

def _clean(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)  # Excel stores long numbers as floats
    if isinstance(cell, dt.datetime | dt.date):
        return ""
    return " ".join(str(cell).split())


CODE_LIKE = re.compile(r"(?=.*[0-9])[A-Za-z0-9-]{8,40}")
SERIAL = re.compile(r"[0-9]{1,4}\.?")


def pick_identifier(cells: list) -> str:
    """One row → one identifier, the most specific it holds: a valid USCC, else something shaped like a
    certificate number, else the first cell that is not a row number (序号), else the first cell."""
    values = [v for v in (_clean(c) for c in cells) if v]
    if not values:
        return ""
    for value in values:
        if is_valid_uscc(value):
            return value
    for value in values:
        if CODE_LIKE.fullmatch(value):
            return value
    for value in values:
        if not SERIAL.fullmatch(value):
            return value
    return values[0]


# A column heading ends like this (投标人名称, 统一社会信用代码, 证书编号); a company name never does.
HEADER_ENDINGS = ("名称", "代码", "编号", "编码", "序号", "证书号", "投标人", "供应商", "单位")


def _is_header(cells: list) -> bool:
    """A row of column headings: every cell a known heading, or no cell an identifier and one cell a heading."""
    values = [v for v in (_clean(c) for c in cells) if v]
    folded = [fold(v).lower() for v in values]
    known = {w.lower() for w in HEADER_WORDS}
    if not values:
        return False
    if all(v in known for v in folded):
        return True
    if any(is_valid_uscc(v) or CODE_LIKE.fullmatch(v) for v in values):
        return False
    return any(v in known or (v.endswith(HEADER_ENDINGS) and len(v) <= 20) for v in folded)


def _rows_to_identifiers(rows, limit: int) -> list[str]:
    found: list[str] = []
    first = True  # only the first non-empty row can be a header
    for row in rows:
        cells = list(row)
        if first and any(_clean(c) for c in cells):
            first = False
            if _is_header(cells):
                continue
        value = pick_identifier(cells)[:MAX_IDENTIFIER_LENGTH]
        if not value:
            continue
        found.append(value)
        if len(found) > limit:
            raise ValueError("too_many")
    return found


def parse_text(text: str, limit: int = PAGE_MAX_IDENTIFIERS) -> list[str]:
    """Pasted text: one identifier per line; a line pasted from a spreadsheet (tabs) counts as a row."""
    rows = (line.split("\t") for line in (text or "").splitlines())
    return _rows_to_identifiers(rows, limit)


def _decode(data: bytes) -> str:
    # Spreadsheet programs on Chinese systems save CSV as GB18030/GBK; everything else as UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("encoding")


def parse_csv(data: bytes, limit: int = PAGE_MAX_IDENTIFIERS) -> list[str]:
    text = _decode(data)
    if "\x00" in text:
        raise ValueError("unreadable")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return _rows_to_identifiers(csv.reader(io.StringIO(text), dialect), limit)
    except csv.Error as error:
        raise ValueError("unreadable") from error


class _XlsxTooBig(Exception):
    pass


def _count_xml(stream, counts: dict[str, int]) -> None:
    """Count the elements of one package part as they stream past, stopping at the first cap exceeded.

    Element names are matched without their namespace, so a prefixed part (`<x:si>`) counts the same.
    A part that is not XML (an image) stops the count at its first byte; openpyxl reads XML only.
    """
    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")

    def start(name, _attrs):
        local = name.rsplit("}", 1)[-1]
        counts["elements"] += 1
        if local in counts:
            counts[local] += 1
        if (counts["elements"] > MAX_XLSX_ELEMENTS or counts["si"] > MAX_XLSX_SHARED_STRINGS
                or counts["c"] > MAX_XLSX_CELLS or counts["row"] > MAX_XLSX_ROWS):
            raise _XlsxTooBig

    def doctype(*_args):
        raise ValueError("unreadable")  # no spreadsheet part declares a DTD; entity tricks live there

    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = doctype
    try:
        while chunk := stream.read(64 * 1024):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except xml.parsers.expat.ExpatError:
        return


def check_xlsx_size(archive: zipfile.ZipFile) -> None:
    """Refuse, before openpyxl reads it, a workbook that would cost more than a bulk check is worth.

    openpyxl loads every shared string up front, even in read-only mode, and parses a whole row at a
    time, so the caps are checked over every part of the package by a streaming count (any part may
    hold the shared strings or a sheet: the package's content types say which).
    """
    if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_XLSX_BYTES:
        raise ValueError("too_large")
    counts = {"elements": 0, "si": 0, "c": 0, "row": 0}
    try:
        for info in archive.infolist():
            with archive.open(info) as stream:
                _count_xml(stream, counts)
    except _XlsxTooBig as error:
        raise ValueError("too_many_cells") from error


def parse_xlsx(data: bytes, limit: int = PAGE_MAX_IDENTIFIERS) -> list[str]:
    """The first worksheet, streamed read-only (no formulas run, cached values only), within the caps above."""
    from openpyxl import load_workbook
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_xlsx_size(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError) as error:
        raise ValueError("unreadable") from error  # damaged, encrypted or oddly compressed archives
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises assorted errors on damaged files
        raise ValueError("unreadable") from error
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # a stale <dimension> from some generators would hide rows; the caps bound them
        return _rows_to_identifiers(sheet.iter_rows(values_only=True, max_col=20), limit)
    except ValueError:
        raise
    except Exception as error:
        raise ValueError("unreadable") from error
    finally:
        workbook.close()


def parse_upload(filename: str, data: bytes, limit: int = PAGE_MAX_IDENTIFIERS) -> list[str]:
    """CSV or XLSX by content (XLSX is a zip), falling back to the file name; ValueError(code) otherwise."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError("too_large")
    name = (filename or "").lower()
    if data[:4] == b"PK\x03\x04":
        return parse_xlsx(data, limit)
    if name.endswith((".xlsx", ".xlsm")):
        raise ValueError("unreadable")
    if name.endswith(".xls"):
        raise ValueError("old_excel")
    return parse_csv(data, limit)


def check_identifiers(values: list, limit: int) -> list[str]:
    """Identifiers from an API list: strings, trimmed, each at most MAX_IDENTIFIER_LENGTH; ValueError(code)."""
    if not isinstance(values, list):
        raise ValueError("not_a_list")
    if not values:
        raise ValueError("empty")
    if len(values) > limit:
        raise ValueError("too_many")
    cleaned = []
    for value in values:
        if not isinstance(value, str):
            raise ValueError("not_a_string")
        if len(value) > MAX_IDENTIFIER_LENGTH:
            raise ValueError("too_long")
        cleaned.append(" ".join(value.split()))
    return cleaned


# ---------------------------------------------------------------- checking

@dataclass(frozen=True)
class Candidate:
    number: str
    company_name: str
    uscc: str
    province: str


@dataclass
class BulkRow:
    input: str
    match: str
    certificate: Certificate | None = None
    candidates: list[Candidate] = field(default_factory=list)
    other_numbers: list[str] = field(default_factory=list)
    on_state: history.DayState | None = None
    status_today: CertificateStatus | None = None
    open_complaints: int | None = None
    flags: list[str] = field(default_factory=list)


@dataclass
class BulkResult:
    rows: list[BulkRow]
    on: dt.date
    today: dt.date
    loaded: list = field(default_factory=list, repr=False)  # keeps loaded companies alive for rendering

    def counts(self) -> dict[str, int]:
        counts = {MatchKind.EXACT: 0, MatchKind.AMBIGUOUS: 0, MatchKind.NOT_FOUND: 0}
        for row in self.rows:
            counts[row.match] += 1
        return counts

    def failing(self) -> list[int]:
        """Indexes of the rows that fail on the asked day: not in the registry, or not valid that day."""
        return [index for index, row in enumerate(self.rows) if fails_on_day(row)]


def fails_on_day(row: BulkRow) -> bool:
    """A bidder fails on the day when no certificate was found or the one found was not valid that day.
    Ambiguous names are not failures: they need the number, and the summary counts them apart."""
    if row.match == MatchKind.NOT_FOUND:
        return True
    if row.match != MatchKind.EXACT:
        return False
    state = row.on_state
    return state is None or not state.issued or state.status is not CertificateStatus.VALID


class Flag:
    EXPIRES_SOON = "expires_within_90_days"
    SUSPENDED = "suspended"
    LEVEL_LOWERED = "level_lowered_last_12_months"
    NOT_YET_ISSUED = "not_issued_on_date"


def _level_rank(scheme_id: str | None, level_id: str | None):
    scheme = get_scheme(scheme_id) if scheme_id else None
    level = scheme.level(level_id) if scheme and level_id else None
    return level.min_score if level else None


def level_was_lowered(entries, today: dt.date) -> bool:
    """A level_changed entry in the last 12 months whose new level ranks below the one before."""
    since = today - dt.timedelta(days=LEVEL_LOOKBACK_DAYS)
    for entry in entries:
        if entry.kind != "level_changed" or not (since <= entry.effective_on <= today):
            continue
        before = _level_rank(entry.scheme_id, (entry.data or {}).get("level_before"))
        after = _level_rank(entry.scheme_id, entry.level_after)
        if before is not None and after is not None and after < before:
            return True
    return False


def _primary(certificates: list[Certificate], today: dt.date) -> Certificate:
    """Of one company's certificates, the one a bid evaluator means: valid first, then the latest issued."""
    return max(certificates, key=lambda c: (c.effective_status(today) is CertificateStatus.VALID, c.issued_on, c.id))


def state_for(certificate: Certificate, entries, day: dt.date, policy: StatusPolicy | None = None) -> history.DayState:
    """The state on `day` from the certificate's ledger entries; by its record if it has none."""
    policy = status_policy() if policy is None else policy
    if entries:
        return history.state_on(entries, day, policy)
    # No ledger history (rows entered before the ledger existed): judge the current record by date.
    if day < certificate.first_issued_on:
        return history.DayState(day, False, None, None, None, None, None)
    return history.DayState(day, True, certificate.effective_status(day), certificate.level, certificate.scheme_id,
                            certificate.expires_on, None)


def verify_identifiers(identifiers: list[str], on: dt.date | None = None) -> BulkResult:
    """Match each identifier and report status on `on` (default today) and today, expiry and flags."""
    from registry.procurement.services import open_complaint_counts
    today = clock.today()
    on = on or today
    matches = _unique_key_matches(identifiers)
    rest = list(dict.fromkeys(i for i in identifiers if i not in matches))
    matches.update(lookup_many([i for i in rest if _searchable(i)], limit=MAX_CANDIDATES + 1))
    matches.update((i, []) for i in rest if not _searchable(i))

    certificate_ids = {c.id for found in matches.values() for c in found}
    company_ids = {c.company_id for found in matches.values() for c in found}
    # Loaded once and kept referenced (the identity map holds objects weakly), so each lazy
    # `certificate.company` is answered from the identity map instead of one query per row.
    companies: list[Company] = []
    for chunk in _chunks(sorted(company_ids)):
        companies += db.session.scalars(select(Company).where(Company.id.in_(chunk))).all()
    # History goes by the hashed certificate number (the row link is not covered by the hash).
    ids_by_number = {c.number: c.id for found in matches.values() for c in found}
    entries_by_certificate: dict[int, list[LedgerEntry]] = defaultdict(list)
    for chunk in _chunks(sorted(ids_by_number)):
        for entry in db.session.scalars(select(LedgerEntry).where(LedgerEntry.certificate_number.in_(chunk))):
            entries_by_certificate[ids_by_number[entry.certificate_number]].append(entry)
    complaints = open_complaint_counts(sorted(certificate_ids))
    policy = status_policy()

    rows: list[BulkRow] = []
    for identifier in identifiers:
        found = matches[identifier]
        if not found:
            rows.append(BulkRow(identifier, MatchKind.NOT_FOUND))
            continue
        if len({c.company_id for c in found}) > 1:
            candidates = [Candidate(c.number, c.company.name, c.company.uscc, c.company.province)
                          for c in found[:MAX_CANDIDATES]]
            rows.append(BulkRow(identifier, MatchKind.AMBIGUOUS, candidates=candidates))
            continue
        certificate = _primary(found, today)
        entries = entries_by_certificate.get(certificate.id, [])
        row = BulkRow(identifier, MatchKind.EXACT, certificate=certificate,
                      other_numbers=[c.number for c in found if c.id != certificate.id],
                      on_state=state_for(certificate, entries, on, policy),
                      status_today=certificate.effective_status(today),
                      open_complaints=None if complaints is None else complaints.get(certificate.id, 0))
        row.flags = _flags(certificate, row, entries, today)
        rows.append(row)
    return BulkResult(rows=rows, on=on, today=today, loaded=companies)


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _unique_key_matches(identifiers: list[str]) -> dict[str, list[Certificate]]:
    """Identifiers that are exactly a stored certificate number or credit code, resolved in a few queries.

    Both are unique keys, so the answer is the one `lookup` gives (the number's certificate; the
    company's certificates, newest first); anything else (names, typed variants) goes through
    `lookup`. This keeps 1,000 identifiers to a handful of queries instead of 1,000 lookups.
    """
    keys = {i: i.strip().upper() for i in identifiers if _searchable(i)}
    values = sorted(set(keys.values()))
    by_number: dict[str, Certificate] = {}
    by_uscc: dict[str, list[Certificate]] = defaultdict(list)
    for chunk in _chunks(values):
        for certificate in db.session.scalars(select(Certificate).where(Certificate.number.in_(chunk))):
            by_number[certificate.number] = certificate
    rest = [v for v in values if v not in by_number]
    for chunk in _chunks(rest):
        query = (select(Certificate, Company.uscc).join(Certificate.company).where(Company.uscc.in_(chunk))
                 .order_by(Certificate.issued_on.desc()))
        for certificate, uscc in db.session.execute(query):
            if len(by_uscc[uscc]) <= MAX_CANDIDATES:
                by_uscc[uscc].append(certificate)
    found: dict[str, list[Certificate]] = {}
    for identifier, key in keys.items():
        if key in by_number:
            found[identifier] = [by_number[key]]
        elif key in by_uscc:
            found[identifier] = by_uscc[key]
    return found


def _searchable(identifier: str) -> bool:
    """Text no certificate can match (empty, NUL, lone surrogates) is 'not found' without asking the database."""
    if not identifier or "\x00" in identifier:
        return False
    try:
        identifier.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _flags(certificate: Certificate, row: BulkRow, entries, today: dt.date) -> list[str]:
    flags = []
    if not row.on_state.issued:
        flags.append(Flag.NOT_YET_ISSUED)
    if row.status_today is CertificateStatus.VALID and \
            today <= certificate.expires_on <= today + dt.timedelta(days=EXPIRY_WARNING_DAYS):
        flags.append(Flag.EXPIRES_SOON)
    if CertificateStatus.SUSPENDED in (row.status_today, row.on_state.status):
        flags.append(Flag.SUSPENDED)
    if level_was_lowered(entries, today):
        flags.append(Flag.LEVEL_LOWERED)
    return flags


# ---------------------------------------------------------------- plain data (API, receipts, exports)

def _iso(day):
    return day.isoformat() if day else None


def score_value(score):
    return None if score is None else float(score)


def row_as_dict(row: BulkRow) -> dict:
    """A row as plain JSON data with English snake_case names (the API, receipts and exports share it)."""
    data: dict = {"input": row.input, "match": row.match}
    if row.match == MatchKind.AMBIGUOUS:
        data["candidates"] = [{"number": c.number, "company": {"name": c.company_name, "uscc": c.uscc},
                               "province": c.province} for c in row.candidates]
        return data
    if row.match == MatchKind.NOT_FOUND:
        return data
    c = row.certificate
    state = row.on_state
    data.update({
        "number": c.number,
        "company": {"name": c.company.name, "uscc": c.company.uscc},
        "scheme": c.scheme_id,
        "level": c.level,
        "score": score_value(c.score),
        "issued_on": _iso(c.issued_on),
        "expires_on": _iso(c.expires_on),
        "status": row.status_today.value,
        "on": {"issued": state.issued, "status": state.status.value if state.status else None,
               "level": state.level, "expires_on": _iso(state.expires_on), "ledger_seq": state.entry_seq},
        "open_complaints": row.open_complaints,
        "flags": list(row.flags),
        "other_certificates": list(row.other_numbers),
    })
    return data


def result_as_dict(result: BulkResult) -> dict:
    return {"on": result.on.isoformat(), "today": result.today.isoformat(), "counts": result.counts(),
            "results": [row_as_dict(r) for r in result.rows]}
