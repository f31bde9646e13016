"""Use cases over companies and certificates: listing, counting, lookup.

Services never commit; views and CLI commands do, once per request.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Date, String, and_, bindparam, case, cast, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.functions import FunctionElement

from registry import clock
from registry.certificates import rules
from registry.certificates.identifiers import fold, normalise_uscc
from registry.certificates.importer import N_, ImportRow, Problem
from registry.certificates.lifecycle import snapshot as lifecycle_snapshot
from registry.certificates.models import Certificate, Company
from registry.certificates.rules import CertificateStatus, add_months
from registry.errors import NotFound, ValidationError
from registry.extensions import db
from registry.ledger.services import append_entry
from registry.search.outbox import queue_certificate

FILTER_NAMES = ("level", "status", "province", "industry", "scheme")


class add_days_months(FunctionElement):
    """SQL for rules.add_months(day + days, months): month arithmetic clamped to the month's last day, as
    the rule does (31 Jan + 1 month = 28/29 Feb), on both backends. Arguments: a date, two integers."""
    type = Date()
    inherit_cache = True
    name = "add_days_months"


@compiles(add_days_months, "postgresql")
def _add_days_months_postgresql(element, compiler, **kw):
    day, days, months = (compiler.process(c, **kw) for c in element.clauses)
    # PostgreSQL's date + interval 'n months' clamps to the month's end, like the rule.
    return f"CAST(({day} + CAST({days} AS INTEGER)) + make_interval(months => CAST({months} AS INTEGER)) AS DATE)"


@compiles(add_days_months, "sqlite")
def _add_days_months_sqlite(element, compiler, **kw):
    day, days, months = (compiler.process(c, **kw) for c in element.clauses)
    start = f"date({day}, '+' || ({days}) || ' days')"
    # SQLite's '+n months' overflows into the next month (31 Jan + 1 month = 3 Mar): go from the first
    # of the month, add the day back, and clamp to the target month's last day.
    first = f"date({start}, 'start of month', '+' || ({months}) || ' months')"
    last = f"date({start}, 'start of month', '+' || ({months} + 1) || ' months', '-1 day')"
    same_day = f"date({first}, '+' || (CAST(strftime('%d', {start}) AS INTEGER) - 1) || ' days')"
    return f"min({same_day}, {last})"


def effective_status_expr(today: dt.date, policy: rules.StatusPolicy | None = None):
    """SQL form of rules.effective_status, so lists and counts filter on what the public sees.

    The rule is the definition; this is checked against it row by row on a generated grid of stored
    statuses and dates, on SQLite and PostgreSQL (tests/invariants/test_status_sql.py). Keep the branches in
    the rule's order.
    """
    if policy is None:
        from registry.certificates.models import status_policy
        policy = status_policy()
    grace, months = policy.surveillance_grace_days, policy.max_suspension_months
    stored, due, until = Certificate.status, Certificate.surveillance_due_on, Certificate.suspended_until
    suspended = CertificateStatus.SUSPENDED.value
    valid = CertificateStatus.VALID.value
    # Surveillance due before this day is overdue today; before the second, overdue beyond the maximum
    # suspension (the day after its end is rules.on_read_revocation_day).
    overdue_before = today - dt.timedelta(days=grace)
    revoked_before = rules.overdue_revocation_cutoff(today, grace, months)
    return case(
        (stored.in_([CertificateStatus.REVOKED.value, CertificateStatus.WITHDRAWN.value]), stored),
        # On-read revocations that fell on or before the expiry date are final.
        (and_(stored == suspended, until.is_not(None), until < today, until < Certificate.expires_on),
         literal(CertificateStatus.REVOKED.value)),
        (and_(stored == valid, due.is_not(None), due < revoked_before,
              add_days_months(due, literal(grace + 1), literal(months)) < Certificate.expires_on),
         literal(CertificateStatus.REVOKED.value)),
        (Certificate.expires_on < today, literal(CertificateStatus.EXPIRED.value)),
        (and_(stored == valid, due.is_not(None), due < overdue_before), literal(suspended)),
        else_=stored,
    )


def status_condition(status: str, today: dt.date):
    """A WHERE clause selecting certificates whose effective status is `status` on `today`."""
    return effective_status_expr(today) == CertificateStatus(status).value


@dataclass(frozen=True)
class CertificateFilters:
    level: str | None = None
    status: str | None = None
    province: str | None = None
    industry: str | None = None
    scheme: str | None = None

    @classmethod
    def from_args(cls, args) -> CertificateFilters:
        """Read filters from a query string; unknown status values are ignored, not errors."""
        values = {name: (args.get(name) or "").strip() or None for name in FILTER_NAMES}
        if values["status"] and values["status"] not in {s.value for s in CertificateStatus}:
            values["status"] = None
        return cls(**values)

    def active(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FILTER_NAMES if getattr(self, name)}


def filtered_query(filters: CertificateFilters, today: dt.date | None = None):
    today = today or clock.today()
    query = select(Certificate).join(Certificate.company).options(joinedload(Certificate.company))
    if filters.level:
        query = query.where(Certificate.level == filters.level)
    if filters.scheme:
        query = query.where(Certificate.scheme_id == filters.scheme)
    if filters.status:
        query = query.where(status_condition(filters.status, today))
    if filters.province:
        query = query.where(Company.province == filters.province)
    if filters.industry:
        query = query.where(Company.industry == filters.industry)
    return query


def list_certificates(filters: CertificateFilters, page: int, per_page: int):
    """One page of certificates matching the filters, newest issue first."""
    query = filtered_query(filters).order_by(Certificate.issued_on.desc(), Certificate.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def filter_choices() -> dict[str, list[str]]:
    """Distinct provinces and industries present in the register, for filter menus."""
    provinces = db.session.scalars(select(Company.province).distinct().order_by(Company.province)).all()
    industries = db.session.scalars(select(Company.industry).distinct().order_by(Company.industry)).all()
    return {"province": provinces, "industry": industries}


def public_counts(today: dt.date | None = None) -> dict:
    """Counts by effective status and by (scheme, level), for the home page."""
    today = today or clock.today()
    status = effective_status_expr(today)
    by_status = dict(db.session.execute(select(status, func.count()).group_by(status)).all())
    by_level_rows = db.session.execute(
        select(Certificate.scheme_id, Certificate.level, func.count())
        .where(status_condition(CertificateStatus.VALID, today))
        .group_by(Certificate.scheme_id, Certificate.level)
    ).all()
    return {
        "by_status": {s.value: by_status.get(s.value, 0) for s in CertificateStatus},
        "valid_by_level": {(scheme, level): n for scheme, level, n in by_level_rows},
        "total": sum(by_status.values()),
    }


def get_certificate(number: str) -> Certificate:
    """The certificate with this exact number.

    Raises:
        NotFound: no certificate has that number.
    """
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.number == number.strip()).options(joinedload(Certificate.company))
    )
    if certificate is None:
        raise NotFound()
    return certificate


def find_certificate(raw_number: str) -> Certificate | None:
    """The certificate whose number matches `raw_number` typed or scanned loosely (spaces, dashes, case, full-width).

    Exact match first (the index answers it), then the folded form, then a comparison ignoring separators
    stored in the number itself (imported numbers may carry dashes).
    """
    text = (raw_number or "").strip()
    folded = fold(text)
    if not folded or len(folded) > 60:
        return None
    candidates = list(dict.fromkeys([text, folded]))
    query = select(Certificate).options(joinedload(Certificate.company))
    found = db.session.scalar(query.where(Certificate.number.in_(candidates)))
    if found is not None or not (folded.isascii() and folded.isalnum()):
        return found
    bare = func.upper(func.replace(func.replace(Certificate.number, "-", ""), " ", ""))
    return db.session.scalar(query.where(bare == folded).limit(1))


def _name_forms(text: str) -> list[str]:
    """Ways one company name is written: as typed, NFKC-folded, with Chinese (full-width) brackets, no spaces."""
    nfkc = unicodedata.normalize("NFKC", text)
    squeezed = "".join(nfkc.split())
    forms = [text, nfkc, squeezed]
    for form in (nfkc, squeezed):
        forms.append(form.replace("(", "（").replace(")", "）"))
    return list(dict.fromkeys(f for f in forms if f))


def _name_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def lookup(query: str, limit: int = 20) -> list[Certificate]:
    """Certificates for a verify-box entry: a certificate number, a USCC, or an exact current or former name.

    Tolerant of spaces, dashes, case and full-width characters in numbers and codes, and of bracket width
    and spaces in names. Several certificates of one company come newest first.
    """
    text = (query or "").strip()[:200]
    if not text:
        return []
    by_number = find_certificate(text)
    if by_number is not None:
        return [by_number]
    base = (select(Certificate).join(Certificate.company).options(joinedload(Certificate.company))
            .order_by(Certificate.issued_on.desc(), Certificate.id.desc()).limit(limit))
    folded = fold(text)
    if len(folded) == 18:
        try:
            uscc = normalise_uscc(folded)
        except ValueError:
            uscc = folded
        found = db.session.scalars(base.where(Company.uscc == uscc)).all()
        if found:
            return list(found)
    forms = _name_forms(text)
    found = db.session.scalars(base.where(Company.name.in_(forms))).all()
    if found:
        return list(found)
    key = _name_key(text)
    # Former names live in a JSON list: compare in Python over the (few) companies that have any.
    with_former = db.session.execute(
        select(Company.id, Company.former_names).where(cast(Company.former_names, String) != "[]")
        .where(Company.former_names.is_not(None))).all()
    ids = [cid for cid, names in with_former if any(_name_key(n) == key for n in (names or []))]
    if ids:
        return list(db.session.scalars(base.where(Company.id.in_(ids))).all())
    return []


@dataclass(frozen=True)
class CompanyFacts:
    name: str
    uscc: str


@dataclass(frozen=True)
class VerificationFacts:
    """What /v/<number> shows, read in one plain query (no ORM objects: this page must be fast)."""
    id: int
    number: str
    scheme_id: str
    level: str
    scope: str
    issued_on: dt.date
    expires_on: dt.date
    status: str
    suspended_until: dt.date | None
    last_surveillance_on: dt.date | None
    company: CompanyFacts
    version: tuple  # the rows' update times: part of any cache key
    first_issued_on: dt.date

    @property
    def scheme(self):
        from registry.schemes import get_scheme
        return get_scheme(self.scheme_id)

    @property
    def surveillance_due(self) -> dt.date:
        from registry.certificates.rules import surveillance_due_on
        return surveillance_due_on(self.last_surveillance_on or self.issued_on, self.scheme.surveillance_interval_months)

    def effective_status(self, today: dt.date | None = None) -> CertificateStatus:
        from registry.certificates.models import status_policy
        from registry.certificates.rules import effective_status
        return effective_status(self.status, self.expires_on, today or clock.today(), suspended_until=self.suspended_until,
                                surveillance_due_on=self.surveillance_due, policy=status_policy())


_FACT_COLUMNS = (Certificate.id, Certificate.number, Certificate.scheme_id, Certificate.level, Certificate.scope,
                 Certificate.issued_on, Certificate.expires_on, Certificate.status, Certificate.suspended_until,
                 Certificate.last_surveillance_on, Company.name, Company.uscc, Certificate.updated_at, Company.updated_at,
                 Certificate.first_issued_on)


# Built once: constructing a statement per request costs more than running it.
_FACTS_BY_NUMBER = (select(*_FACT_COLUMNS).join(Company, Company.id == Certificate.company_id)
                    .where(Certificate.number == bindparam("number")))
_FACTS_BY_ID = (select(*_FACT_COLUMNS).join(Company, Company.id == Certificate.company_id)
                .where(Certificate.id == bindparam("id")))


def verification_facts(raw_number: str) -> VerificationFacts | None:
    """The facts for the verification page, by number typed or scanned loosely; None when unknown."""
    text = (raw_number or "").strip()
    row = None
    if text and len(text) <= 60:
        row = db.session.connection().execute(_FACTS_BY_NUMBER, {"number": text}).first()
    if row is None:
        found = find_certificate(text)
        if found is None:
            return None
        row = db.session.connection().execute(_FACTS_BY_ID, {"id": found.id}).first()
    (cid, number, scheme_id, level, scope, issued_on, expires_on, status, suspended_until, last_surveillance_on,
     name, uscc, cert_updated, company_updated, first_issued_on) = row
    return VerificationFacts(cid, number, scheme_id, level, scope or "", issued_on, expires_on, status, suspended_until,
                             last_surveillance_on, CompanyFacts(name, uscc), (cert_updated, company_updated),
                             first_issued_on)


# ------------------------------------------------------------------------------------- import (issue 2 §5)

@dataclass
class ImportSummary:
    """What an import did: counts a clerk can check against the file."""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    companies_created: int = 0
    companies_updated: int = 0
    ledger_entries: int = 0


class ImportRejected(ValidationError):
    """The file was refused whole; `problems` lists every reason (importer.Problem)."""

    def __init__(self, problems: list[Problem]):
        super().__init__("import rejected")
        self.problems = problems


_CERTIFICATE_FIELDS = ("level", "score", "scope", "service_sites", "issued_on", "expires_on", "last_surveillance_on")
_COMPANY_FIELDS = ("name", "province", "city", "address", "industry", "enterprise_type", "former_names")


def _company_values(row: ImportRow) -> dict:
    return {"name": row.company_name, "province": row.province, "city": row.city, "address": row.address,
            "industry": row.industry, "enterprise_type": row.enterprise_type, "former_names": list(row.former_names)}


def _certificate_values(row: ImportRow) -> dict:
    return {"level": row.level, "score": row.score, "scope": row.scope, "service_sites": list(row.service_sites),
            "issued_on": row.issued_on, "expires_on": row.expires_on, "last_surveillance_on": row.last_surveillance_on}


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _existing_problems(rows: list[ImportRow], companies: dict, certificates: dict) -> list[Problem]:
    """Checks that need the database: a certificate cannot change company or scheme, nor leave a terminal status."""
    problems = []
    for row in rows:
        certificate = certificates.get(row.certificate_number)
        if certificate is None:
            continue
        if certificate.company.uscc != row.uscc:
            problems.append(Problem(row.line, "uscc", "certificate_other_company", N_(
                "Certificate %(number)s is registered to the company with credit code %(other)s; a certificate "
                "cannot move to another company."), {"number": row.certificate_number, "other": certificate.company.uscc}))
        if certificate.scheme_id != row.scheme_id:
            problems.append(Problem(row.line, "scheme", "scheme_changed", N_(
                "Certificate %(number)s is registered under scheme %(other)s; its scheme cannot change."),
                {"number": row.certificate_number, "other": certificate.scheme_id}))
        if certificate.status in (CertificateStatus.REVOKED.value, CertificateStatus.WITHDRAWN.value) \
                and row.status != certificate.status:
            problems.append(Problem(row.line, "status", "terminal_status", N_(
                "Certificate %(number)s is %(other)s in the registry and cannot become %(value)s again."),
                {"number": row.certificate_number, "other": certificate.status, "value": row.status}))
    return problems


def import_register(rows: list[ImportRow], actor_role: str = "import", *, only_new: bool = False) -> ImportSummary:
    """Write checked register rows (importer.ImportRow): create or update companies and certificates.

    All or nothing: database checks run before any write. A row equal to what is stored changes nothing,
    so re-importing a file writes no ledger entry and no outbox row. New certificates get an 'imported'
    entry effective on their issue date, then an entry for a non-valid status; changed ones an 'updated'
    entry (and a status entry when the status changed). With only_new, existing certificates are left alone
    (the demo loader uses this so a second run on a later day changes nothing).

    Rows are written in batches (companies, then certificates, then ledger entries in file order, then
    outbox rows) to keep database round trips few on PostgreSQL.

    Raises:
        ImportRejected: a row contradicts the registry (other company, other scheme, terminal status).
    """
    rows = list(rows)
    summary = ImportSummary()
    usccs = sorted({row.uscc for row in rows})
    numbers = sorted({row.certificate_number for row in rows})
    companies: dict[str, Company] = {}
    for chunk in _chunks(usccs):
        companies.update({c.uscc: c for c in db.session.scalars(select(Company).where(Company.uscc.in_(chunk)))})
    certificates: dict[str, Certificate] = {}
    for chunk in _chunks(numbers):
        certificates.update({c.number: c for c in db.session.scalars(
            select(Certificate).where(Certificate.number.in_(chunk)).options(joinedload(Certificate.company)))})

    problems = _existing_problems(rows, companies, certificates)
    if problems:
        raise ImportRejected(problems)

    today = clock.today()
    suspension_months = current_app.config.get("MAX_SUSPENSION_MONTHS", 6)
    if only_new:
        summary.unchanged = sum(1 for row in rows if row.certificate_number in certificates)
        rows = [row for row in rows if row.certificate_number not in certificates]

    # 1. Companies: created once, updated from their first row (the importer made sure rows agree).
    changed_companies: set[int] = set()
    for row in rows:
        company = companies.get(row.uscc)
        values = _company_values(row)
        if company is None:
            company = Company(uscc=row.uscc, **values)
            db.session.add(company)
            companies[row.uscc] = company
            summary.companies_created += 1
        elif company.id is not None and company.id not in changed_companies and any(
                getattr(company, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(company, name, value)
            changed_companies.add(company.id)
            summary.companies_updated += 1

    # 2. Certificates: new ones added, changed ones updated; the ledger events are planned in file order.
    events: list[tuple[Certificate, str, dict]] = []
    touched: list[Certificate] = []
    for row in rows:
        company = companies[row.uscc]
        certificate = certificates.get(row.certificate_number)
        values = _certificate_values(row)
        if certificate is None:
            certificate = Certificate(number=row.certificate_number, company=company, scheme_id=row.scheme_id,
                                      first_issued_on=row.issued_on, status=CertificateStatus.VALID.value,
                                      status_reason="", **values)
            db.session.add(certificate)
            certificates[row.certificate_number] = certificate
            events.append((certificate, "imported", {
                "effective_on": row.issued_on, "status_after": CertificateStatus.VALID.value,
                "data": {"score": str(row.score), "expires_on": row.expires_on.isoformat()}}))
            if row.status != CertificateStatus.VALID.value:
                _apply_status(certificate, row, today, suspension_months)
                events.append((certificate, row.status, {
                    "effective_on": certificate.status_changed_on, "status_after": row.status,
                    "public_text": row.status_reason, "reason": row.status_reason}))
            summary.created += 1
            touched.append(certificate)
            continue

        company_changed = company.id in changed_companies
        changed = [name for name, value in values.items() if getattr(certificate, name) != value]
        status_changed = row.status != certificate.status
        if row.status != CertificateStatus.VALID.value and not status_changed:
            if row.status_reason != certificate.status_reason:
                changed.append("status_reason")
            if row.status_changed_on and row.status_changed_on != certificate.status_changed_on:
                changed.append("status_changed_on")
        if not changed and not status_changed and not company_changed:
            summary.unchanged += 1
            continue
        for name, value in values.items():
            setattr(certificate, name, value)
        certificate.first_issued_on = min(certificate.first_issued_on, row.issued_on)
        if changed or company_changed:
            if not status_changed:
                certificate.status_reason = row.status_reason
                if row.status_changed_on:
                    certificate.status_changed_on = row.status_changed_on
            events.append((certificate, "updated", {
                "effective_on": today, "status_after": certificate.status,
                "data": {"changed": changed + (["company"] if company_changed else [])}}))
        if status_changed:
            _apply_status(certificate, row, today, suspension_months)
            events.append((certificate, "restored" if row.status == CertificateStatus.VALID.value else row.status, {
                "effective_on": certificate.status_changed_on, "status_after": row.status,
                "public_text": row.status_reason, "reason": row.status_reason}))
        summary.updated += 1
        touched.append(certificate)

    # A changed company name or address shows on its other certificates too.
    if changed_companies:
        in_file = {c.id for c in touched}
        for certificate in db.session.scalars(select(Certificate).where(Certificate.company_id.in_(changed_companies))
                                              .order_by(Certificate.id)):
            if certificate.id not in in_file:
                events.append((certificate, "updated", {"effective_on": today, "status_after": certificate.status,
                                                        "data": {"changed": ["company"]}}))
                touched.append(certificate)

    # 3. Ledger entries in file order, then the outbox rows (the ids exist after this flush).
    db.session.flush()
    for certificate, kind, fields in events:
        # The date snapshot lets history.status_on judge any past day (expiry, suspension end, surveillance).
        certificate.refresh_derived_dates()
        data = {"snapshot": lifecycle_snapshot(certificate), **fields.pop("data", {})}
        append_entry(kind=kind, actor_role=actor_role, certificate=certificate, level_after=certificate.level,
                     data=data, **fields)
        summary.ledger_entries += 1
    for certificate in touched:
        queue_certificate(certificate.id)
    db.session.flush()
    return summary


def _apply_status(certificate: Certificate, row: ImportRow, today: dt.date, suspension_months: int) -> None:
    certificate.status = row.status
    certificate.status_reason = row.status_reason
    certificate.status_changed_on = row.status_changed_on or today
    certificate.suspended_until = (add_months(certificate.status_changed_on, suspension_months)
                                   if row.status == CertificateStatus.SUSPENDED.value else None)
