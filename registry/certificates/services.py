"""Use cases over companies and certificates: listing, counting, lookup.

Services never commit; views and CLI commands do, once per request.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from sqlalchemy import String, and_, bindparam, case, cast, func, literal, select
from sqlalchemy.orm import joinedload

from registry import clock
from registry.certificates.identifiers import fold, normalise_uscc
from registry.certificates.models import Certificate, Company
from registry.certificates.rules import CertificateStatus
from registry.errors import NotFound
from registry.extensions import db

FILTER_NAMES = ("level", "status", "province", "industry", "scheme")


def _grace_cutoff(today: dt.date) -> dt.date:
    """Surveillance due before this day is overdue today (after the configured grace)."""
    from registry.certificates.models import surveillance_grace_days
    return today - dt.timedelta(days=surveillance_grace_days())


def effective_status_expr(today: dt.date):
    """SQL twin of rules.effective_status, so lists and counts filter on what the public sees."""
    terminal = [CertificateStatus.REVOKED.value, CertificateStatus.WITHDRAWN.value]
    return case(
        (Certificate.status.in_(terminal), Certificate.status),
        (Certificate.expires_on < today, literal(CertificateStatus.EXPIRED.value)),
        (and_(Certificate.status == CertificateStatus.SUSPENDED.value, Certificate.suspended_until.is_not(None),
              Certificate.suspended_until < today), literal(CertificateStatus.REVOKED.value)),
        (and_(Certificate.status == CertificateStatus.VALID.value, Certificate.surveillance_due_on.is_not(None),
              Certificate.surveillance_due_on < _grace_cutoff(today)), literal(CertificateStatus.SUSPENDED.value)),
        else_=Certificate.status,
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

    @property
    def scheme(self):
        from registry.schemes import get_scheme
        return get_scheme(self.scheme_id)

    @property
    def surveillance_due(self) -> dt.date:
        from registry.certificates.rules import surveillance_due_on
        return surveillance_due_on(self.last_surveillance_on or self.issued_on, self.scheme.surveillance_interval_months)

    def effective_status(self, today: dt.date | None = None) -> CertificateStatus:
        from registry.certificates.models import surveillance_grace_days
        from registry.certificates.rules import effective_status
        return effective_status(self.status, self.expires_on, today or clock.today(), suspended_until=self.suspended_until,
                                surveillance_due_on=self.surveillance_due, surveillance_grace_days=surveillance_grace_days())


_FACT_COLUMNS = (Certificate.id, Certificate.number, Certificate.scheme_id, Certificate.level, Certificate.scope,
                 Certificate.issued_on, Certificate.expires_on, Certificate.status, Certificate.suspended_until,
                 Certificate.last_surveillance_on, Company.name, Company.uscc, Certificate.updated_at, Company.updated_at)


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
     name, uscc, cert_updated, company_updated) = row
    return VerificationFacts(cid, number, scheme_id, level, scope or "", issued_on, expires_on, status, suspended_until,
                             last_surveillance_on, CompanyFacts(name, uscc), (cert_updated, company_updated))
