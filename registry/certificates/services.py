"""Use cases over companies and certificates: listing, counting, lookup.

Services never commit; views and CLI commands do, once per request.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import Date, String, and_, bindparam, case, cast, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.functions import FunctionElement

from registry import clock
from registry.certificates import rules
from registry.certificates.identifiers import fold, normalise_uscc
from registry.certificates.import_plan import (
    IMPORT_ROLES,
    NOT_DECISIONS,
    CertificateChange,
    ExistingCertificate,
    ExistingCompany,
    plan_import,
)
from registry.certificates.importer import N_, ImportRow, Problem
from registry.certificates.models import Certificate, Company
from registry.certificates.rules import CertificateStatus
from registry.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from registry.extensions import db
from registry.ledger.messages import LedgerMessage, Level, Words
from registry.ledger.models import LedgerEntry
from registry.ledger.services import lock_head

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


def _newest_first(certificates) -> list[Certificate]:
    return sorted(certificates, key=lambda c: (c.issued_on, c.id), reverse=True)


def _in_chunks(values, size: int = 500):
    values = sorted(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def lookup_many(queries: list[str], limit: int = 20) -> dict[str, list[Certificate]]:
    """`lookup` for many entries at once: the same answer for each, in a few queries for all of them.

    A bulk check of 1,000 names would otherwise cost several queries per name (and one scan of the
    former names per name). Each step of `lookup` runs once over every entry still unanswered, in the
    same order, so an entry resolves at the same step with the same certificates; tests compare the two
    entry by entry on SQLite and PostgreSQL.
    """
    texts = {q: (q or "").strip()[:200] for q in queries}
    answers: dict[str, list[Certificate]] = {q: [] for q in queries}
    pending = {q: t for q, t in texts.items() if t}
    with_company = select(Certificate).options(joinedload(Certificate.company))

    # 1. A certificate number: as typed or folded, then ignoring separators stored in the number.
    folded = {q: fold(t) for q, t in pending.items()}
    numbered = {q: t for q, t in pending.items() if folded[q] and len(folded[q]) <= 60}
    by_number: dict[str, Certificate] = {}
    for chunk in _in_chunks({v for q, t in numbered.items() for v in (t, folded[q])}):
        by_number.update((c.number, c) for c in db.session.scalars(with_company.where(Certificate.number.in_(chunk))))
    bare_wanted = set()
    for q, t in numbered.items():
        hit = by_number.get(t) or by_number.get(folded[q])
        if hit is not None:
            answers[q] = [hit]
        elif folded[q].isascii() and folded[q].isalnum():
            bare_wanted.add(folded[q])
    if bare_wanted:
        bare = func.upper(func.replace(func.replace(Certificate.number, "-", ""), " ", ""))
        by_bare: dict[str, Certificate] = {}
        for chunk in _in_chunks(bare_wanted):
            for key, certificate in db.session.execute(select(bare, Certificate).where(bare.in_(chunk))):
                by_bare.setdefault(key, certificate)
        for q in numbered:
            if not answers[q] and folded[q] in by_bare:
                answers[q] = [by_bare[folded[q]]]
    pending = {q: t for q, t in pending.items() if not answers[q]}

    # 2. A credit code (18 characters once folded).
    usccs = {}
    for q in pending:
        if len(folded[q]) == 18:
            try:
                usccs[q] = normalise_uscc(folded[q])
            except ValueError:
                usccs[q] = folded[q]
    by_uscc: dict[str, list[Certificate]] = {}
    for chunk in _in_chunks(set(usccs.values())):
        query = with_company.join(Certificate.company).where(Company.uscc.in_(chunk))
        for certificate in db.session.scalars(query):
            by_uscc.setdefault(certificate.company.uscc, []).append(certificate)
    for q, uscc in usccs.items():
        if uscc in by_uscc:
            answers[q] = _newest_first(by_uscc[uscc])[:limit]
    pending = {q: t for q, t in pending.items() if not answers[q]}

    # 3. A current name, in any of the ways it is written.
    forms = {q: _name_forms(t) for q, t in pending.items()}
    by_name: dict[str, list[Certificate]] = {}
    for chunk in _in_chunks({f for fs in forms.values() for f in fs}):
        query = with_company.join(Certificate.company).where(Company.name.in_(chunk))
        for certificate in db.session.scalars(query):
            by_name.setdefault(certificate.company.name, []).append(certificate)
    for q, fs in forms.items():
        found = {c.id: c for f in fs for c in by_name.get(f, [])}
        if found:
            answers[q] = _newest_first(found.values())[:limit]
    pending = {q: t for q, t in pending.items() if not answers[q]}

    # 4. A former name: one read of the companies that have any, whatever the number of entries.
    if pending:
        with_former = db.session.execute(
            select(Company.id, Company.former_names).where(cast(Company.former_names, String) != "[]")
            .where(Company.former_names.is_not(None))).all()
        companies_by_key: dict[str, set[int]] = {}
        for company_id, names in with_former:
            for name in names or []:
                companies_by_key.setdefault(_name_key(name), set()).add(company_id)
        wanted = {q: companies_by_key.get(_name_key(t), set()) for q, t in pending.items()}
        by_company: dict[int, list[Certificate]] = {}
        for chunk in _in_chunks(set().union(*wanted.values())):
            for certificate in db.session.scalars(with_company.where(Certificate.company_id.in_(chunk))):
                by_company.setdefault(certificate.company_id, []).append(certificate)
        for q, ids in wanted.items():
            found = [c for company_id in ids for c in by_company.get(company_id, [])]
            if found:
                answers[q] = _newest_first(found)[:limit]
    return answers


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
# The register import is a sync, not a bypass: import_plan decides (pure), this applies, and every write of
# certificate state goes through the lifecycle module (issue, sync_record, change_level, apply_status), as a
# back-office decision would. Only company rows are written here.

@dataclass
class ImportSummary:
    """What an import did: counts a clerk can check against the file, and the warnings to read."""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    companies_created: int = 0
    companies_updated: int = 0
    ledger_entries: int = 0
    warnings: list[Problem] = field(default_factory=list)


class ImportRejected(ValidationError):
    """The file was refused whole; `problems` lists every reason (importer.Problem)."""

    def __init__(self, problems: list[Problem]):
        super().__init__("import rejected")
        self.problems = problems


# Set by lifecycle.apply_status, never from a row's columns directly.
STATUS_FIELDS = ("status", "status_reason", "status_changed_on", "suspended_until")


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _certificates_by_folded_number(keys: set[str]) -> dict[str, list[Certificate]]:
    """Registry certificates whose folded number is one of `keys` (numbers may be stored with dashes)."""
    ids: dict[str, list[int]] = {}
    for cid, number in db.session.execute(select(Certificate.id, Certificate.number)):
        key = fold(number)
        if key in keys:
            ids.setdefault(key, []).append(cid)
    wanted = [cid for group in ids.values() for cid in group]
    loaded: dict[int, Certificate] = {}
    for chunk in _chunks(wanted):
        loaded.update({c.id: c for c in db.session.scalars(
            select(Certificate).where(Certificate.id.in_(chunk)).options(joinedload(Certificate.company)))})
    return {key: [loaded[cid] for cid in group] for key, group in ids.items()}


def _last_decisions(numbers: list[str]) -> dict[str, tuple[int, dt.date, str]]:
    """Per certificate number: (highest seq, latest effective day, its kind) of the registry's own decisions."""
    found: dict[str, tuple[int, dt.date, str]] = {}
    for chunk in _chunks(numbers):
        query = (select(LedgerEntry.certificate_number, LedgerEntry.seq, LedgerEntry.effective_on, LedgerEntry.kind)
                 .where(LedgerEntry.certificate_number.in_(chunk), LedgerEntry.kind.not_in(NOT_DECISIONS),
                        LedgerEntry.actor_role.not_in(IMPORT_ROLES)).order_by(LedgerEntry.seq))
        for number, seq, effective_on, kind in db.session.execute(query):
            _seq, latest, latest_kind = found.get(number, (0, effective_on, kind))
            if effective_on >= latest:
                latest, latest_kind = effective_on, kind
            found[number] = (seq, latest, latest_kind)
    return found


def _existing_certificate(certificate: Certificate, decision) -> ExistingCertificate:
    seq, on, kind = decision or (None, None, "")
    return ExistingCertificate(
        number=certificate.number, uscc=certificate.company.uscc, scheme_id=certificate.scheme_id,
        level=certificate.level, score=certificate.score, scope=certificate.scope or "",
        service_sites=tuple(certificate.service_sites or ()), issued_on=certificate.issued_on,
        expires_on=certificate.expires_on, first_issued_on=certificate.first_issued_on,
        last_surveillance_on=certificate.last_surveillance_on, status=certificate.status,
        status_reason=certificate.status_reason or "", status_changed_on=certificate.status_changed_on,
        suspended_until=certificate.suspended_until, recertification_count=certificate.recertification_count or 0,
        last_decision_seq=seq, last_decision_on=on, last_decision_kind=kind)


def _existing_company(company: Company) -> ExistingCompany:
    return ExistingCompany(company.uscc, company.name, company.province, company.city, company.address,
                           company.industry, company.enterprise_type, tuple(company.former_names or ()))


def _trusted_ledger_seq(ledger_head: tuple[int, str] | None) -> int | None:
    """The file's ledger head, when this registry's ledger has that very entry (the file came from here)."""
    if not ledger_head or ledger_head[0] is None:
        return None
    seq, digest = ledger_head
    if seq == 0:
        return 0 if digest.strip("0") == "" else None
    stored = db.session.scalar(select(LedgerEntry.hash).where(LedgerEntry.seq == seq))
    return seq if stored is not None and stored == digest else None


def _import_reason(row: ImportRow, text: str) -> str | LedgerMessage:
    """The row's own words, else the line it came from (as meaning: rendered in each reader's language)."""
    return text.strip() or LedgerMessage(N_("Register import, line %(line)s."), line=row.line)


# Field names in "updated" entries, translated for each reader (scope and sites as the back office says them).
RECORD_WORDS = {"scope": N_("scope"), "service_sites": N_("service sites"), "score": N_("score"),
                "issued_on": N_("issue date"), "expires_on": N_("expiry date"), "first_issued_on": N_("first issue date"),
                "last_surveillance_on": N_("last surveillance audit"),
                "recertification_count": N_("number of recertifications"), "status_reason": N_("status reason"),
                "status_changed_on": N_("status date"), "suspended_until": N_("suspension end"),
                "company": N_("company details")}


def _details_message(names) -> LedgerMessage:
    return LedgerMessage(N_("Certificate details changed: %(fields)s."),
                         fields=Words(tuple(LedgerMessage(RECORD_WORDS[n]) if n in RECORD_WORDS else n for n in names)))


def _import_actor(actor_role: str):
    from registry.certificates import lifecycle
    actors = {actor.role: actor for actor in (lifecycle.IMPORT, lifecycle.DEMO)}
    if actor_role not in actors:
        raise ValueError(f"unknown import actor {actor_role!r}")
    return actors[actor_role]


def import_register(rows: list[ImportRow], actor_role: str = "import", *, only_new: bool = False,
                    as_of: dt.date | None = None, ledger_head: tuple[int, str] | None = None) -> ImportSummary:
    """Sync checked register rows (importer.ImportRow) into the registry, all or nothing.

    import_plan.plan_import decides what changes and refuses what the back office would refuse (a later
    decision held by the registry, a transition the public status does not allow, a terminal certificate).
    Then every certificate change goes through the lifecycle module, as lifecycle.IMPORT (or DEMO, the demo
    loader): a new certificate is entered with lifecycle.issue ('imported' on its issue date) and a non-valid
    status with apply_status on the row's status date; an existing one gets sync_record (descriptive and
    dated fields, one 'updated' entry), change_level and apply_status (dated by the row when no later entry
    of that certificate precedes it, else today). A row equal to what is stored changes nothing and writes
    nothing. With only_new, existing certificates are left alone (the demo loader).

    `as_of` dates the file (else each row is dated by its own dates); `ledger_head` (seq, hash) is the
    head an export was taken at, used when this registry's ledger holds that entry.

    Raises:
        ImportRejected: a row contradicts the registry, or a lifecycle transition refused it.
    """
    from registry.certificates import lifecycle
    from registry.certificates.models import status_policy

    rows = list(rows)
    actor = _import_actor(actor_role)
    # Lock, then read: the ledger's lock is held until commit, so no decision can be appended between
    # reading the registry's state for the plan and applying it (every decision appends to the ledger).
    lock_head()
    today = clock.today()
    policy = status_policy()
    summary = ImportSummary()
    companies: dict[str, Company] = {}
    for chunk in _chunks(sorted({row.uscc for row in rows})):
        companies.update({c.uscc: c for c in db.session.scalars(select(Company).where(Company.uscc.in_(chunk)))})
    matches = _certificates_by_folded_number({fold(row.certificate_number) for row in rows})
    by_number = {c.number: c for group in matches.values() for c in group}
    decisions = _last_decisions(sorted(by_number))
    plan = plan_import(rows, {key: [_existing_certificate(c, decisions.get(c.number)) for c in group]
                              for key, group in matches.items()},
                       {uscc: _existing_company(c) for uscc, c in companies.items()}, today, policy=policy,
                       as_of=as_of, ledger_seq=_trusted_ledger_seq(ledger_head), only_new=only_new)
    if plan.problems:
        raise ImportRejected(plan.problems)
    summary.warnings = plan.warnings
    first_seq = _head_seq()

    # 1. Companies (their rows hold no certificate state; every certificate they touch gets an entry below).
    changed_companies: dict[int, list[str]] = {}
    for uscc, company_change in plan.companies.items():
        if company_change.action == "create":
            companies[uscc] = Company(uscc=uscc, **company_change.values)
            db.session.add(companies[uscc])
            summary.companies_created += 1
        elif company_change.action == "update":
            company = companies[uscc]
            changed_companies[company.id] = [n for n, v in company_change.values.items() if getattr(company, n) != v]
            for name, value in company_change.values.items():
                setattr(company, name, value)
            summary.companies_updated += 1
    db.session.flush()

    # 2. In file order: each certificate through the lifecycle.
    touched: set[int] = set()
    for change in plan.certificates:
        row = change.row
        if change.action == "unchanged":
            summary.unchanged += 1
            continue
        column = "status"
        try:
            if change.action == "create":
                certificate = _enter_certificate(lifecycle, actor, change, companies[row.uscc])
                summary.created += 1
            else:
                certificate = by_number[change.number]
                column = _sync_certificate(lifecycle, actor, certificate, change, today)
                summary.updated += 1
        except (InvalidTransition, PermissionDenied, ValidationError) as error:
            raise ImportRejected([Problem(row.line, column, "transition_refused",
                                          N_("The registry refused this change: %(reason)s"),
                                          {"reason": getattr(error, "message", "") or str(error)})]) from error
        touched.add(certificate.id)

    # A changed company name or address shows on its other certificates too.
    if changed_companies:
        for certificate in db.session.scalars(select(Certificate).where(Certificate.company_id.in_(changed_companies))
                                              .order_by(Certificate.id)):
            if certificate.id not in touched:
                lifecycle.record_event(certificate, "updated", actor_role=actor.role, effective_on=today,
                                       message=_company_message(changed_companies[certificate.company_id]),
                                       extra={"changed": ["company"]})
    db.session.flush()
    summary.ledger_entries = _head_seq() - first_seq
    return summary


def _company_message(names) -> LedgerMessage:
    from registry.office.services import FIELD_WORDS
    return LedgerMessage(N_("Company details changed: %(fields)s."),
                         fields=Words(tuple(LedgerMessage(FIELD_WORDS[n]) if n in FIELD_WORDS else n for n in names)))


def _head_seq() -> int:
    return db.session.scalar(select(func.max(LedgerEntry.seq))) or 0


def _enter_certificate(lifecycle, actor, change: CertificateChange, company: Company) -> Certificate:
    """'imported' on the issue date (valid, at its level), then the row's status on its own date."""
    row, fields = change.row, change.fields
    values = {k: v for k, v in fields.items() if k not in STATUS_FIELDS}
    certificate = Certificate(number=change.number, company=company, status=CertificateStatus.VALID.value,
                              status_reason="", **values)
    extra = {"score": str(row.score), "expires_on": row.expires_on.isoformat()}
    if row.level != row.score_level:
        extra.update(level_reason=row.level_reason, score_level=row.score_level)
    lifecycle.issue(certificate, actor=actor, reason="", kind="imported", effective_on=row.issued_on, extra=extra,
                    message=LedgerMessage(N_("Issued at level %(level)s (audit score %(score)s)."),
                                          level=Level(row.scheme_id, row.level), score=row.score))
    if fields["status"] != CertificateStatus.VALID.value:
        lifecycle.apply_status(certificate, fields["status"], reason=row.status_reason, actor=actor,
                               effective_on=fields["status_changed_on"], until=fields["suspended_until"])
    return certificate


def _sync_certificate(lifecycle, actor, certificate: Certificate, change: CertificateChange, today: dt.date) -> str:
    """Apply a planned update: record fields, level, status; returns the column a refusal is reported in."""
    row = change.row
    if change.fields:
        lifecycle.sync_record(certificate, actor=actor, changes=change.fields, message=_details_message(change.changed),
                              extra={"changed": change.changed})
    elif change.changed:  # only the company's details changed
        lifecycle.record_event(certificate, "updated", actor_role=actor.role, effective_on=today,
                               message=_details_message(change.changed), extra={"changed": change.changed})
    if change.level is not None:
        lifecycle.change_level(certificate, new_level=change.level, actor=actor,
                               reason=_import_reason(row, row.level_reason),
                               extra={"level_reason": row.level_reason, "score_level": row.score_level})
    if change.transition is None:
        return "level"
    stated = row.status_changed_on if row.status != CertificateStatus.VALID.value else None
    # The row's own date when it keeps the history in order (no entry of this certificate is dated later),
    # else today; either way the stored status date is the row's, so the same file re-imports unchanged.
    day = stated if stated is not None and stated >= _latest_entry_day(certificate.number) else today
    lifecycle.apply_status(certificate, row.status, reason=_import_reason(row, row.status_reason), actor=actor,
                           effective_on=day, until=change.suspended_until)
    if stated is not None and stated != day:
        lifecycle.sync_record(certificate, actor=actor, changes={"status_changed_on": stated},
                              message=_details_message(["status_changed_on"]), extra={"changed": ["status_changed_on"]})
    return "status"


def _latest_entry_day(number: str) -> dt.date:
    return db.session.scalar(select(func.max(LedgerEntry.effective_on))
                             .where(LedgerEntry.certificate_number == number)) or dt.date.min
