"""Use cases over companies and certificates: listing, counting, lookup.

Services never commit; views and CLI commands do, once per request.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from sqlalchemy import String, and_, case, cast, func, literal, select
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
