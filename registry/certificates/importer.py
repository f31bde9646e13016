"""Reading an existing register (CSV or JSON Lines) into checked rows: pure, no Flask, no database.

The file is checked whole before anything is written: `parse_register` returns every row it could read
and every problem it found, each with its line number, column and a reason a clerk can act on. The
service (`services.import_register`) refuses the whole file if there is a single problem.

Messages are English msgids marked with N_ (translated when shown; see `describe`), with %(name)s
placeholders filled from Problem.params.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from registry.certificates.identifiers import normalise_certificate_number, normalise_uscc
from registry.certificates.rules import (
    CertificateStatus,
    EnterpriseType,
    add_months,
    cut_to_cents,
    default_expiry,
    judge,
)
from registry.schemes import Scheme, all_schemes


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated when shown."""
    return message


REQUIRED_COLUMNS = ("certificate_number", "company_name", "uscc", "province", "city", "address", "industry",
                    "enterprise_type", "scheme", "score", "scope", "issued_on")
OPTIONAL_COLUMNS = ("level", "expires_on", "status", "last_surveillance_on", "former_names",
                    # Additions beyond the list (all optional): see docs/foundation.md.
                    "service_sites", "status_reason", "status_changed_on",
                    # Written by `flask certificates export` so the registry's own state re-imports whole.
                    "level_reason", "suspended_until", "first_issued_on", "recertification_count")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
LIST_COLUMNS = ("former_names", "service_sites")
MAX_LENGTHS = {"certificate_number": 40, "company_name": 200, "province": 20, "city": 40, "address": 300,
               "industry": 40, "scope": 2000, "status_reason": 500, "level_reason": 500}
NUMBER_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9/\-]*$")
LIST_SEPARATORS = re.compile(r"[;；\n]")

# Province-level divisions (GB/T 2260); short forms people write map to the full name.
PROVINCES = (
    "北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海市", "江苏省",
    "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省",
    "广西壮族自治区", "海南省", "重庆市", "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省",
    "青海省", "宁夏回族自治区", "新疆维吾尔自治区", "台湾省", "香港特别行政区", "澳门特别行政区",
)
_PROVINCE_SHORT = {"内蒙古": "内蒙古自治区", "广西": "广西壮族自治区", "西藏": "西藏自治区", "宁夏": "宁夏回族自治区",
                   "新疆": "新疆维吾尔自治区", "香港": "香港特别行政区", "澳门": "澳门特别行政区"}
PROVINCE_ALIASES = {**{p[:-1]: p for p in PROVINCES if p.endswith(("省", "市"))}, **_PROVINCE_SHORT,
                    **{p: p for p in PROVINCES}}

ENTERPRISE_TYPE_ALIASES = {"production": EnterpriseType.PRODUCTION.value, "生产型": EnterpriseType.PRODUCTION.value,
                           "sales_service": EnterpriseType.SALES_SERVICE.value,
                           "销售服务型": EnterpriseType.SALES_SERVICE.value}
STATUS_ALIASES = {"valid": "valid", "有效": "valid", "suspended": "suspended", "暂停": "suspended",
                  "revoked": "revoked", "撤销": "revoked", "withdrawn": "withdrawn", "注销": "withdrawn"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: where (line, column; None for the whole file) and why."""
    line: int | None
    column: str | None
    code: str
    message: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportRow:
    """One checked row of a register file, ready for services.import_register."""
    line: int
    certificate_number: str
    company_name: str
    uscc: str
    province: str
    city: str
    address: str
    industry: str
    enterprise_type: str
    scheme_id: str
    score: Decimal
    level: str
    scope: str
    issued_on: dt.date
    expires_on: dt.date
    status: str = CertificateStatus.VALID.value
    status_reason: str = ""
    status_changed_on: dt.date | None = None
    last_surveillance_on: dt.date | None = None
    former_names: tuple[str, ...] = ()
    service_sites: tuple[str, ...] = ()
    # The level the score gives; `level` may be lower only with a level_reason (a sanction, a policy cap).
    score_level: str = ""
    level_reason: str = ""
    suspended_until: dt.date | None = None
    first_issued_on: dt.date | None = None
    recertification_count: int | None = None

    @property
    def stated_dates(self) -> tuple[dt.date, ...]:
        """The dates the row states about the certificate's state: the row is 'as of' the latest of them."""
        return tuple(day for day in (self.issued_on, self.last_surveillance_on, self.status_changed_on,
                                     self.first_issued_on) if day is not None)


@dataclass(frozen=True)
class FileHeader:
    """What an export says about itself on its first line: the day and ledger head it was taken at."""
    as_of: dt.date | None = None
    ledger_head_seq: int | None = None
    ledger_head_hash: str = ""


@dataclass
class ParseResult:
    rows: list[ImportRow]
    problems: list[Problem]
    file_format: str  # "csv" or "jsonl"
    header: FileHeader = field(default_factory=FileHeader)

    @property
    def ok(self) -> bool:
        return not self.problems


class FileProblem(Exception):
    """The file as a whole cannot be read (encoding, empty, header)."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message % dict(problem.params))
        self.problem = problem


def describe(problem: Problem, translate: Callable[[str], str] = lambda s: s) -> str:
    """The problem's reason in words, through `translate` (gettext) so it reads in the user's language."""
    params = {key: (_short(value) if key == "value" and isinstance(value, str) else value)
              for key, value in problem.params.items()}
    return translate(problem.message) % params


def _short(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------- reading

def parse_register(data: bytes, filename: str, today: dt.date, schemes: Mapping[str, Scheme] | None = None, *,
                   max_suspension_months: int = 6) -> ParseResult:
    """Read a whole register file and check every row; never raises for bad content.

    A first line `# as_of=YYYY-MM-DD ledger_head_seq=N ledger_head_hash=H` (CSV) or `{"export": {...}}`
    (JSON Lines), as `flask certificates export` writes it, says when the file was taken; it is optional.
    """
    schemes = all_schemes() if schemes is None else schemes
    file_format = "jsonl" if filename.lower().endswith((".jsonl", ".ndjson", ".json")) else "csv"
    try:
        text = _decode(data)
        header, text, offset = _file_header(text, file_format)
        records = list(_jsonl_records(text, offset) if file_format == "jsonl" else _csv_records(text, offset))
    except FileProblem as error:
        return ParseResult([], [error.problem], file_format)
    result = check_records(records, today, schemes, file_format, max_suspension_months=max_suspension_months)
    result.header = header
    return result


def _file_header(text: str, file_format: str) -> tuple[FileHeader, str, int]:
    """(header, the text after it, lines skipped); no header line gives an empty FileHeader."""
    first, _newline, rest = text.partition("\n")
    meta: Mapping[str, object] | None = None
    if file_format == "csv" and first.startswith("#"):
        meta = dict(part.split("=", 1) for part in first[1:].split() if "=" in part)
    elif file_format == "jsonl" and first.lstrip().startswith('{"export"'):
        try:
            value = json.loads(first)
        except ValueError:
            value = None
        if isinstance(value, dict) and isinstance(value.get("export"), dict) and len(value) == 1:
            meta = value["export"]
    if meta is None:
        return FileHeader(), text, 0
    as_of_text = str(meta.get("as_of") or meta.get("status_as_of") or "")
    seq_text = str(meta.get("ledger_head_seq") or "")
    as_of = parse_date(as_of_text) if as_of_text else None
    if (as_of_text and as_of is None) or (seq_text and not seq_text.isdigit()):
        raise FileProblem(Problem(1, None, "bad_file_header", N_(
            "The first line describes the file but cannot be read: write # as_of=YYYY-MM-DD (optionally "
            "ledger_head_seq=N ledger_head_hash=H), or remove the line.")))
    return FileHeader(as_of, int(seq_text) if seq_text else None, str(meta.get("ledger_head_hash") or "")), rest, 1


def _decode(data: bytes) -> str:
    if not data.strip():
        raise FileProblem(Problem(None, None, "empty_file", N_("The file is empty.")))
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError as error:
        try:
            data.decode("gb18030")
            message = N_("The file is not UTF-8 text: it looks like GBK (Excel's plain \"CSV\"). In Excel choose "
                         "Save As → \"CSV UTF-8 (comma delimited)\" and import that file.")
        except UnicodeDecodeError:
            message = N_("The file is not UTF-8 text (first bad byte at position %(position)s). Save it as "
                         "\"CSV UTF-8\" or JSON Lines in UTF-8.")
        raise FileProblem(Problem(None, None, "not_utf8", message, {"position": error.start})) from error
    if not text.strip():
        raise FileProblem(Problem(None, None, "empty_file", N_("The file is empty.")))
    if "\x00" in text:
        raise FileProblem(Problem(None, None, "binary_file", N_(
            "The file contains NUL bytes: it is not a CSV or JSON Lines text file (an .xlsx file? Save it as CSV UTF-8).")))
    return text


Record = tuple[int, dict[str, object] | None, list[Problem]]


def _csv_records(text: str, offset: int = 0) -> Iterable[Record]:
    """(line, {column: text}, problems) per data row; the header is checked first.

    `offset` is the number of lines before `text` in the file (a file header line), so lines are physical."""
    if not text.strip():
        raise FileProblem(Problem(1 + offset, None, "no_header", N_(
            "The first line must be the header with the column names.")))
    first_line = text.splitlines()[0] if text.splitlines() else ""
    delimiter = max([",", "\t", ";"], key=lambda d: sum(c.strip().lower() in COLUMNS for c in first_line.split(d)))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as error:
        raise FileProblem(Problem(1 + offset, None, "bad_csv", N_("The header line cannot be read as CSV: %(error)s"),
                                  {"error": str(error)})) from error
    columns = [name.strip().lower() for name in header]
    _check_header(columns, 1 + offset)
    previous_end = reader.line_num + offset
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield previous_end + 1, None, [Problem(previous_end + 1, None, "bad_csv",
                                                   N_("This line cannot be read as CSV: %(error)s"), {"error": str(error)})]
            return
        line, previous_end = previous_end + 1, reader.line_num + offset
        if not any(v.strip() for v in values):
            continue  # blank lines and Excel's trailing ",,,," rows
        if len(values) != len(columns):
            yield line, None, [Problem(line, None, "field_count", N_(
                "This row has %(found)s values but the header has %(expected)s columns (a comma inside a value "
                "needs quotes)."), {"found": len(values), "expected": len(columns)})]
            continue
        yield line, dict(zip(columns, values, strict=True)), []


def _check_header(columns: list[str], line: int = 1) -> None:
    if not any(columns):
        raise FileProblem(Problem(line, None, "no_header", N_("The first line must be the header with the column names.")))
    unknown = [c for c in columns if c not in COLUMNS]
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if not (set(columns) & set(COLUMNS)):
        raise FileProblem(Problem(line, None, "no_header", N_(
            "The first line is not the header: it has none of the column names (%(expected)s)."),
            {"expected": ", ".join(REQUIRED_COLUMNS)}))
    if unknown:
        raise FileProblem(Problem(line, unknown[0], "unknown_column", N_(
            "Unknown column(s) in the header: %(columns)s. Allowed columns: %(allowed)s."),
            {"columns": ", ".join(unknown), "allowed": ", ".join(COLUMNS)}))
    if duplicates:
        raise FileProblem(Problem(line, duplicates[0], "duplicate_column", N_(
            "The header names a column twice: %(columns)s."), {"columns": ", ".join(duplicates)}))
    if missing:
        raise FileProblem(Problem(line, missing[0], "missing_column", N_(
            "Required column(s) missing from the header: %(columns)s."), {"columns": ", ".join(missing)}))


def _jsonl_records(text: str, offset: int = 0) -> Iterable[Record]:
    for line, raw in enumerate(text.splitlines(), start=1 + offset):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw, parse_float=Decimal)
        except ValueError as error:
            yield line, None, [Problem(line, None, "bad_json", N_("This line is not valid JSON: %(error)s"),
                                       {"error": str(error)})]
            continue
        if not isinstance(value, dict):
            yield line, None, [Problem(line, None, "bad_json", N_("Each line must be one JSON object {…}."))]
            continue
        problems = []
        record: dict[str, object] = {}
        for key, item in value.items():
            name = str(key).strip().lower()
            if name not in COLUMNS:
                problems.append(Problem(line, str(key), "unknown_column", N_(
                    "Unknown column. Allowed columns: %(allowed)s."), {"allowed": ", ".join(COLUMNS)}))
                continue
            if item is None:
                item = ""
            if name in LIST_COLUMNS and isinstance(item, list) and all(isinstance(x, str) for x in item):
                record[name] = item
            elif isinstance(item, str) or isinstance(item, (int, Decimal)) and not isinstance(item, bool):
                record[name] = item if isinstance(item, str) else str(item)
            else:
                problems.append(Problem(line, name, "bad_type", N_("The value must be text or a number.")))
        given = {str(key).strip().lower() for key in value}
        for name in REQUIRED_COLUMNS:
            if name not in given:
                problems.append(Problem(line, name, "missing_column", N_("Required column missing from this line.")))
        yield line, (record if not problems else None), problems


# --------------------------------------------------------------------------------------------- checking

def check_records(records: Iterable[Record], today: dt.date, schemes: Mapping[str, Scheme],
                  file_format: str = "csv", *, max_suspension_months: int = 6) -> ParseResult:
    """Check rows one by one and across rows (duplicate numbers, one company described two ways)."""
    rows: list[ImportRow] = []
    problems: list[Problem] = []
    first_line_of_number: dict[str, int] = {}
    for line, record, found in records:
        problems.extend(found)
        if record is None:
            continue
        number = _text(record, "certificate_number")
        key = normalise_certificate_number(number)
        if key and key in first_line_of_number:
            problems.append(Problem(line, "certificate_number", "duplicate_number", N_(
                "Certificate number %(value)s already appears on line %(other)s: each certificate once per file."),
                {"value": number, "other": first_line_of_number[key]}))
        elif key:
            first_line_of_number[key] = line
        row, row_problems = check_row(line, record, today, schemes, max_suspension_months=max_suspension_months)
        problems.extend(row_problems)
        if row is not None:
            rows.append(row)
    problems.extend(_cross_row_problems(rows))
    if not rows and not problems:
        problems.append(Problem(None, None, "no_rows", N_("The file has a header but no certificate rows.")))
    problems.sort(key=lambda p: (p.line or 0, COLUMNS.index(p.column) if p.column in COLUMNS else len(COLUMNS)))
    return ParseResult(rows if not problems else [], problems, file_format)


def _cross_row_problems(rows: list[ImportRow]) -> list[Problem]:
    problems = []
    company_of_uscc: dict[str, ImportRow] = {}
    for row in rows:
        first = company_of_uscc.setdefault(row.uscc, row)
        if first is not row:
            for column in ("company_name", "province", "city", "address", "industry", "enterprise_type"):
                if getattr(first, column) != getattr(row, column):
                    problems.append(Problem(row.line, column, "company_mismatch", N_(
                        "Same credit code as line %(other)s but a different value (%(value)s there): one company, "
                        "one description."), {"other": first.line, "value": getattr(first, column)}))
            if first.former_names != row.former_names:
                problems.append(Problem(row.line, "former_names", "company_mismatch", N_(
                    "Same credit code as line %(other)s but a different value (%(value)s there): one company, "
                    "one description."), {"other": first.line, "value": "; ".join(first.former_names) or "—"}))
    return problems


def _text(record: Mapping[str, object], name: str) -> str:
    value = record.get(name, "")
    if isinstance(value, list):
        return "; ".join(value)
    return str(value).strip()


def check_row(line: int, record: Mapping[str, object], today: dt.date, schemes: Mapping[str, Scheme], *,
              max_suspension_months: int = 6) -> tuple[ImportRow | None, list[Problem]]:
    """One row: every column checked, every problem reported (not only the first)."""
    problems: list[Problem] = []

    def problem(column: str, code: str, message: str, **params) -> None:
        problems.append(Problem(line, column, code, message, params))

    values = {name: _text(record, name) for name in COLUMNS}
    for name in REQUIRED_COLUMNS:
        if not values[name]:
            problem(name, "required", N_("This value is required."))
    for name, limit in MAX_LENGTHS.items():
        if len(values[name]) > limit:
            problem(name, "too_long", N_("Too long: at most %(limit)s characters."), limit=limit)
    for name in COLUMNS:
        if "\x00" in values[name]:  # JSON can carry "\u0000"; no database column can store it
            problem(name, "bad_character", N_("Contains a NUL character."))

    number = unicodedata.normalize("NFKC", values["certificate_number"]).strip().upper()
    if number and not NUMBER_PATTERN.match(number):
        problem("certificate_number", "bad_number", N_(
            "%(value)s is not a certificate number: use letters, digits, - and / only."), value=number)

    uscc = ""
    if values["uscc"]:
        try:
            uscc = normalise_uscc(values["uscc"])
        except ValueError as error:
            reason = str(error)
            if reason == "checksum":
                problem("uscc", "uscc_checksum", N_(
                    "Credit code %(value)s: the check digit (last character) is wrong. Check it against the business "
                    "licence."), value=values["uscc"])
            elif reason == "length":
                problem("uscc", "uscc_length", N_(
                    "Credit code %(value)s: it must have 18 characters."), value=values["uscc"])
            else:
                problem("uscc", "uscc_format", N_(
                    "Credit code %(value)s: wrong characters (digits and capital letters except I, O, S, V, Z; "
                    "characters 3–8 are the region digits)."), value=values["uscc"])

    province = PROVINCE_ALIASES.get(values["province"], "")
    if values["province"] and not province:
        problem("province", "unknown_province", N_(
            "Unknown province %(value)s: write the province-level name, e.g. 山东省, 北京市, 广西壮族自治区."),
            value=values["province"])

    enterprise_type = ENTERPRISE_TYPE_ALIASES.get(values["enterprise_type"].lower(), "")
    if values["enterprise_type"] and not enterprise_type:
        problem("enterprise_type", "unknown_enterprise_type", N_(
            "Unknown enterprise type %(value)s: use production (生产型) or sales_service (销售服务型)."),
            value=values["enterprise_type"])

    scheme = schemes.get(values["scheme"].lower())
    if values["scheme"] and scheme is None:
        problem("scheme", "unknown_scheme", N_("Unknown scheme %(value)s: use one of %(allowed)s."),
                value=values["scheme"], allowed=", ".join(sorted(schemes)))

    score = _parse_score(values["score"], scheme, problem)
    level_id, score_level = _check_level(values["level"], values["level_reason"], score, scheme, problem)

    issued_on = _parse_date(values["issued_on"], "issued_on", problem)
    expires_on = _parse_date(values["expires_on"], "expires_on", problem)
    surveillance_on = _parse_date(values["last_surveillance_on"], "last_surveillance_on", problem)
    changed_on = _parse_date(values["status_changed_on"], "status_changed_on", problem)
    suspended_until = _parse_date(values["suspended_until"], "suspended_until", problem)
    first_issued_on = _parse_date(values["first_issued_on"], "first_issued_on", problem)
    recertifications = _parse_count(values["recertification_count"], "recertification_count", problem)
    if issued_on and issued_on > today:
        problem("issued_on", "future_date", N_("The issue date %(value)s is in the future."), value=issued_on.isoformat())
    if issued_on and scheme:
        longest = default_expiry(scheme, issued_on)
        if expires_on is None:
            expires_on = longest
        elif expires_on <= issued_on:
            problem("expires_on", "expires_before_issue", N_(
                "The expiry date %(value)s is not after the issue date %(issued)s."),
                value=expires_on.isoformat(), issued=issued_on.isoformat())
        elif expires_on > longest:
            problem("expires_on", "validity_too_long", N_(
                "The expiry date %(value)s is later than the scheme allows (%(years)s years: at most %(latest)s)."),
                value=expires_on.isoformat(), years=scheme.validity_years, latest=longest.isoformat())
    for column, day in (("last_surveillance_on", surveillance_on), ("status_changed_on", changed_on)):
        if day is None:
            continue
        if day > today:
            problem(column, "future_date", N_("The date %(value)s is in the future."), value=day.isoformat())
        elif issued_on and day < issued_on:
            problem(column, "before_issue", N_("The date %(value)s is before the issue date %(issued)s."),
                    value=day.isoformat(), issued=issued_on.isoformat())
        elif expires_on and day > expires_on:
            # Nothing happens to a certificate after it has expired: a surveillance audit or a status
            # decision dated later cannot be true.
            problem(column, "after_expiry", N_(
                "The date %(value)s is after the expiry date %(expires)s: an expired certificate has no surveillance "
                "audit or status decision."), value=day.isoformat(), expires=expires_on.isoformat())
    if first_issued_on is not None and issued_on and first_issued_on > issued_on:
        problem("first_issued_on", "first_issue_after_issue", N_(
            "The first issue date %(value)s is after the issue date %(issued)s of this cycle."),
            value=first_issued_on.isoformat(), issued=issued_on.isoformat())

    status = CertificateStatus.VALID.value
    if values["status"]:
        raw_status = values["status"].lower()
        if raw_status in ("expired", "过期"):
            problem("status", "status_expired", N_(
                "Do not write expired: expiry is worked out from expires_on. Leave status empty or write valid."))
        elif raw_status not in STATUS_ALIASES:
            problem("status", "unknown_status", N_(
                "Unknown status %(value)s: use valid, suspended, revoked or withdrawn (有效/暂停/撤销/注销)."),
                value=values["status"])
        else:
            status = STATUS_ALIASES[raw_status]
    if status == CertificateStatus.VALID.value and (values["status_reason"] or changed_on):
        column = "status_reason" if values["status_reason"] else "status_changed_on"
        problem(column, "reason_without_status", N_(
            "Only a suspended, revoked or withdrawn certificate has a status reason or status date."))
    if suspended_until is not None:
        if status != CertificateStatus.SUSPENDED.value:
            problem("suspended_until", "until_without_suspension", N_(
                "Only a suspended certificate has a suspension end date."))
        elif changed_on is not None and suspended_until <= changed_on:
            problem("suspended_until", "until_before_start", N_(
                "The suspension end %(value)s is not after the suspension date %(start)s."),
                value=suspended_until.isoformat(), start=changed_on.isoformat())
        elif changed_on is not None and suspended_until > add_months(changed_on, max_suspension_months):
            problem("suspended_until", "suspension_too_long", N_(
                "The suspension end %(value)s is more than %(months)s months after the suspension date %(start)s."),
                value=suspended_until.isoformat(), months=max_suspension_months, start=changed_on.isoformat())

    former_names = _split_list(record.get("former_names", ""))
    service_sites = _split_list(record.get("service_sites", ""))
    for column, items in (("former_names", former_names), ("service_sites", service_sites)):
        if any(len(item) > 200 for item in items):
            problem(column, "too_long", N_("Too long: at most %(limit)s characters."), limit=200)

    if problems:
        return None, problems
    assert scheme is not None and score is not None and issued_on is not None and expires_on is not None
    return ImportRow(
        line=line, certificate_number=number, company_name=values["company_name"], uscc=uscc, province=province,
        city=values["city"], address=values["address"], industry=values["industry"],
        enterprise_type=enterprise_type, scheme_id=scheme.id, score=score, level=level_id, scope=values["scope"],
        issued_on=issued_on, expires_on=expires_on, status=status, status_reason=values["status_reason"],
        status_changed_on=changed_on, last_surveillance_on=surveillance_on,
        former_names=tuple(n for n in former_names if n != values["company_name"]), service_sites=service_sites,
        score_level=score_level, level_reason=values["level_reason"], suspended_until=suspended_until,
        first_issued_on=first_issued_on, recertification_count=recertifications,
    ), []


def _split_list(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else LIST_SEPARATORS.split(str(value or ""))
    seen: list[str] = []
    for item in items:
        item = str(item).strip()
        if item and item not in seen:
            seen.append(item)
    return tuple(seen)


_DATE_PATTERNS = (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
                  re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"))


def parse_date(raw: str) -> dt.date | None:
    """YYYY-MM-DD, or the forms Excel and people write (2024/3/1, 2024年3月1日); None if not a date."""
    text = unicodedata.normalize("NFKC", raw).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return dt.date(*(int(part) for part in match.groups()))
            except ValueError:
                return None
    return None


def _parse_date(raw: str, column: str, problem) -> dt.date | None:
    if not raw:
        return None
    day = parse_date(raw)
    if day is None:
        problem(column, "bad_date", N_("%(value)s is not a date: write YYYY-MM-DD, e.g. 2025-03-01."), value=raw)
    return day


def _parse_score(raw: str, scheme: Scheme | None, problem) -> Decimal | None:
    if not raw:
        return None
    try:
        score = Decimal(unicodedata.normalize("NFKC", raw).strip())
    except InvalidOperation:
        problem("score", "bad_score", N_("%(value)s is not a number: write the score like 86.5."), value=raw)
        return None
    if not score.is_finite():
        problem("score", "bad_score", N_("%(value)s is not a number: write the score like 86.5."), value=raw)
        return None
    score = cut_to_cents(score)
    if scheme is None:
        return score
    if score < 0 or score > scheme.scale:
        problem("score", "score_out_of_range", N_("The score %(value)s is outside 0 to %(scale)s for this scheme."),
                value=str(score), scale=scheme.scale)
        return None
    if not judge(scheme, score).passed:
        problem("score", "below_pass", N_(
            "The score %(value)s is below the pass mark %(pass_score)s of this scheme: no certificate can be issued."),
            value=str(score), pass_score=scheme.pass_score)
        return None
    return score


def level_aliases(scheme: Scheme) -> dict[str, str]:
    """What people write for a level (id, 三星, 三星级, Three stars) → the level id."""
    aliases = {}
    for level in scheme.levels:
        for name in (level.id, level.name_zh, level.name_zh + "级", level.name_en):
            aliases[name.lower()] = level.id
    return aliases


def _check_level(raw: str, reason: str, score: Decimal | None, scheme: Scheme | None, problem) -> tuple[str, str]:
    """(the row's level, the level its score gives). A lower level needs a level_reason; a higher one is refused."""
    if scheme is None or score is None:
        return "", ""
    judged = judge(scheme, score).level
    assert judged is not None
    if not raw:
        if reason:
            problem("level_reason", "reason_without_lower_level", N_(
                "A level reason is only given with a level below the one the score gives."))
        return judged.id, judged.id
    given = level_aliases(scheme).get(unicodedata.normalize("NFKC", raw).strip().lower())
    if given is None:
        problem("level", "unknown_level", N_("%(value)s is not a level of scheme %(scheme)s: use %(allowed)s."),
                value=raw, scheme=scheme.id, allowed=", ".join(level.id for level in scheme.levels))
        return judged.id, judged.id
    level = scheme.level(given)
    if level.min_score > judged.min_score:
        problem("level", "level_contradicts_score", N_(
            "Level %(value)s contradicts the score %(score)s, which gives %(judged)s (%(judged_zh)s). Leave level "
            "empty or correct it."), value=raw, score=str(score), judged=judged.id, judged_zh=judged.name_zh)
    elif level.min_score < judged.min_score and not reason:
        problem("level", "lower_level_without_reason", N_(
            "Level %(value)s is below %(judged)s (%(judged_zh)s), which the score %(score)s gives: say why in the "
            "level_reason column (e.g. a sanction, or the first-year cap at 达标)."),
            value=raw, score=str(score), judged=judged.id, judged_zh=judged.name_zh)
    elif level.min_score == judged.min_score and reason:
        problem("level_reason", "reason_without_lower_level", N_(
            "A level reason is only given with a level below the one the score gives."))
    return given, judged.id


def _parse_count(raw: str, column: str, problem) -> int | None:
    if not raw:
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text.isdigit() or int(text) > 99:
        problem(column, "bad_count", N_("%(value)s is not a count: write a whole number from 0 to 99."), value=raw)
        return None
    return int(text)
