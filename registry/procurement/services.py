"""Use cases for procurement and open data: public certificate data, watchlists, feed entries, receipts.

Services never commit; views do. Everything here is public data: no complainant or staff detail leaves.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from registry import clock
from registry.certificates import history
from registry.certificates.identifiers import normalise_uscc
from registry.certificates.models import Certificate, Company
from registry.certificates.services import CertificateFilters, filtered_query, get_certificate
from registry.complaints import services as complaint_services
from registry.errors import NotFound, ValidationError
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from registry.procurement import bulk, receipts
from registry.procurement.models import Watchlist

WATCHLIST_MAX = 500
FEED_SIZE = 50
API_MAX_PER_PAGE = 100
LEDGER_MAX_LIMIT = 500


# ---------------------------------------------------------------- complaints (wired at merge)

def open_complaint_counts(certificate_ids: list[int]) -> dict[int, int] | None:
    """Open complaints per certificate id: the one place procurement asks the complaints domain.

    Bulk results, exports and the API show "not available" (null) wherever this returns None.
    """
    counts = complaint_services.open_complaint_counts(certificate_ids)
    return {certificate_id: counts.get(certificate_id, 0) for certificate_id in certificate_ids}


def complaint_statistics(certificate: Certificate) -> dict | None:
    """Public complaint statistics of one certificate: open now, and the last 12 months from the counters."""
    stats = complaint_services.certificate_stats(certificate.id)
    return {"open": complaint_services.open_complaint_count(certificate.id), "since": stats.since.isoformat(),
            "received": stats.received, "accepted": stats.accepted,
            "answered_on_time_pct": stats.answered_on_time_pct, "resolved_pct": stats.resolved_pct,
            "upheld": stats.upheld, "unanswered": stats.unanswered}


# ---------------------------------------------------------------- certificates as public data

def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def certificate_as_dict(certificate: Certificate, today: dt.date | None = None) -> dict:
    """The public fields of a certificate, English snake_case (API, open data)."""
    today = today or clock.today()
    company = certificate.company
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return {
        "number": certificate.number,
        "company": {"name": company.name, "uscc": company.uscc, "province": company.province,
                    "city": company.city, "industry": company.industry},
        "scheme": certificate.scheme_id,
        "level": certificate.level,
        "score": bulk.score_value(certificate.score),
        "status": certificate.effective_status(today).value,
        "issued_on": _iso(certificate.issued_on),
        "expires_on": _iso(certificate.expires_on),
        "first_issued_on": _iso(certificate.first_issued_on),
        "surveillance_due_on": _iso(certificate.surveillance_due_on),
        "scope": certificate.scope,
        "url": f"{base}/certificates/{certificate.number}",
    }


def search_certificates(filters: CertificateFilters, text: str, page: int, per_page: int):
    """A page of certificates by filters and optional text (number, USCC or part of the company name)."""
    query = filtered_query(filters)
    text = (text or "").strip()
    if text:
        query = query.where((Certificate.number == text.upper()) | (Company.uscc == text.upper())
                            | Company.name.contains(text, autoescape=True))
    query = query.order_by(Certificate.issued_on.desc(), Certificate.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def certificates_of_company(uscc: str) -> tuple[Company, list[Certificate]]:
    """A company and its certificates by USCC (spaces, dashes and full-width characters tolerated).

    Raises:
        ValidationError: not a valid USCC.  NotFound: no such company in the register.
    """
    try:
        compact = normalise_uscc(uscc)
    except ValueError as error:
        raise ValidationError(_("This is not a valid unified social credit code."),
                              fields={"uscc": _("Check the 18 characters.")}) from error
    company = db.session.scalar(select(Company).where(Company.uscc == compact))
    if company is None:
        raise NotFound(_("No company with this credit code is in the register."))
    return company, list(company.certificates)


def certificate_status_on(number: str, day: dt.date) -> tuple[Certificate, history.DayState]:
    """A certificate's state on a given day, from its ledger entries (or its record when it has none).

    Raises:
        NotFound: no certificate has that number.
    """
    certificate = get_certificate(number)
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.certificate_number == certificate.number)).all()
    return certificate, bulk.state_for(certificate, entries, day)


def parse_day(raw: str | None, field: str = "on") -> dt.date | None:
    """An ISO date from a form or query string; None when empty.

    Raises:
        ValidationError: not a date in YYYY-MM-DD form.
    """
    text = (raw or "").strip()
    if not text:
        return None
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            raise ValueError(text)
        day = dt.date.fromisoformat(text)
    except ValueError as error:
        raise ValidationError(_("Enter the date as YYYY-MM-DD."), fields={field: _("Enter the date as YYYY-MM-DD.")}) from error
    return day


# ---------------------------------------------------------------- ledger

def ledger_head() -> LedgerEntry | None:
    return db.session.scalar(select(LedgerEntry).order_by(LedgerEntry.seq.desc()).limit(1))


def ledger_entries(after: int, limit: int) -> list[LedgerEntry]:
    """Public ledger entries with seq > after, oldest first (a mirror pages through with `after`)."""
    return list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.seq > after)
                                   .order_by(LedgerEntry.seq).limit(limit)))


def ledger_entry_as_dict(entry: LedgerEntry) -> dict:
    """An entry with exactly the fields its hash covers, so a reader can recompute the chain."""
    return {
        "seq": entry.seq, "certificate_number": entry.certificate_number, "kind": entry.kind,
        "effective_on": _iso(entry.effective_on), "status_after": entry.status_after,
        "level_after": entry.level_after, "scheme_id": entry.scheme_id, "public_text": entry.public_text,
        "reason": entry.reason, "actor_role": entry.actor_role, "data": entry.data or {},
        "recorded_at": entry.recorded_at.isoformat(timespec="seconds"), "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def ledger_count() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry)) or 0


# ---------------------------------------------------------------- feeds and watchlists

def _certificate_entries():
    return select(LedgerEntry).where(LedgerEntry.certificate_number.is_not(None))


def recent_changes(limit: int = FEED_SIZE) -> list[LedgerEntry]:
    """The newest certificate events of the whole register."""
    return list(db.session.scalars(_certificate_entries().order_by(LedgerEntry.seq.desc()).limit(limit)))


def changes_of_certificate(number: str, limit: int = FEED_SIZE) -> tuple[Certificate, list[LedgerEntry]]:
    """Raises: NotFound: no certificate has that number."""
    certificate = get_certificate(number)
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.certificate_number == certificate.number)
                                 .order_by(LedgerEntry.seq.desc()).limit(limit))
    return certificate, list(entries)


def changes_in_province(province: str, limit: int = FEED_SIZE) -> list[LedgerEntry]:
    """Raises: NotFound: no company of the register is in that province."""
    province = (province or "").strip()
    if not province or db.session.scalar(select(Company.id).where(Company.province == province).limit(1)) is None:
        raise NotFound(_("No certified company is registered in this province."))
    query = (_certificate_entries().join(Certificate, Certificate.number == LedgerEntry.certificate_number)
             .join(Company, Company.id == Certificate.company_id).where(Company.province == province)
             .order_by(LedgerEntry.seq.desc()).limit(limit))
    return list(db.session.scalars(query))


def parse_uscc_list(text: str) -> list[str]:
    """USCCs from text (one per line, or separated by commas/spaces), compact, unique, in order.

    Raises:
        ValidationError: none given, too many, or one is not a valid USCC (named in the message).
    """
    tokens = [t for t in (text or "").replace(",", "\n").replace("，", "\n").replace(";", "\n").split() if t]
    if not tokens:
        raise ValidationError(_("Enter at least one unified social credit code."),
                              fields={"usccs": _("Enter at least one unified social credit code.")})
    if len(tokens) > WATCHLIST_MAX:
        raise ValidationError(_("A watchlist holds at most %(n)s codes.", n=WATCHLIST_MAX),
                              fields={"usccs": _("A watchlist holds at most %(n)s codes.", n=WATCHLIST_MAX)})
    found: list[str] = []
    for token in tokens:
        try:
            compact = normalise_uscc(token)
        except ValueError as error:
            message = _("“%(code)s” is not a valid unified social credit code.", code=token[:40])
            raise ValidationError(message, fields={"usccs": message}) from error
        if compact not in found:
            found.append(compact)
    return found


def create_watchlist(text: str) -> Watchlist:
    """Store a list of USCCs behind a new unguessable token.

    Raises:
        ValidationError: see parse_uscc_list.
    """
    watchlist = Watchlist(token=secrets.token_urlsafe(24), usccs=parse_uscc_list(text))
    db.session.add(watchlist)
    db.session.flush()
    return watchlist


def get_watchlist(token: str) -> Watchlist:
    """Raises: NotFound: no watchlist has this token."""
    watchlist = db.session.scalar(select(Watchlist).where(Watchlist.token == (token or "")[:64]))
    if watchlist is None:
        raise NotFound(_("This watchlist does not exist. Check the feed address."))
    return watchlist


def changes_of_watchlist(watchlist: Watchlist, limit: int = FEED_SIZE) -> list[LedgerEntry]:
    query = (_certificate_entries().join(Certificate, Certificate.number == LedgerEntry.certificate_number)
             .join(Company, Company.id == Certificate.company_id).where(Company.uscc.in_(watchlist.usccs or []))
             .order_by(LedgerEntry.seq.desc()).limit(limit))
    return list(db.session.scalars(query))


def watched_companies(watchlist: Watchlist) -> list[Company]:
    return list(db.session.scalars(select(Company).where(Company.uscc.in_(watchlist.usccs or []))
                                   .order_by(Company.name)))


# ---------------------------------------------------------------- receipts

def registry_identity() -> dict:
    config = current_app.config
    return {"name": config["REGISTRY_NAME"], "base_url": config["PUBLIC_BASE_URL"].rstrip("/"),
            "certification_body": {"name": config["CERTIFICATION_BODY_NAME"], "code": config["CERTIFICATION_BODY_CODE"]}}


def current_signing_key():
    # Production never creates a key on first use: each host would publish its own (see settings_check).
    from registry.config import is_production
    return receipts.signing_key(current_app.config["SIGNING_KEY_PATH"], create=not is_production(current_app.config))


def issue_receipt(result: bulk.BulkResult, identifiers: list[str]) -> dict:
    """A signed receipt of a bulk verification: query, results, time, ledger head and registry identity."""
    head = ledger_head()
    body = {
        "type": "verification_receipt",
        "version": receipts.RECEIPT_VERSION,
        "registry": registry_identity(),
        "issued_at": clock.now().isoformat(timespec="seconds"),
        "query": {"identifiers": list(identifiers), "on": result.on.isoformat(), "today": result.today.isoformat()},
        "ledger_head": {"seq": head.seq, "hash": head.hash} if head else None,
        "counts": result.counts(),
        "results": [bulk.row_as_dict(row) for row in result.rows],
        "check_url": registry_identity()["base_url"] + "/verify/receipt",
    }
    # Proofs that the receipt's certificates' latest entries are in the signed log (docs/transparency.md).
    from registry.ledger import tlog
    body["transparency"] = tlog.receipt_proofs([row.certificate.number for row in result.rows
                                                if row.certificate is not None])
    return receipts.sign(body, current_signing_key())


@dataclass(frozen=True)
class ReceiptCheck:
    genuine: bool
    reason: str | None = None      # not_json, not_a_receipt, other_key, bad_signature
    body: dict | None = None
    key_id: str | None = None


def check_receipt(text: str) -> ReceiptCheck:
    """Whether a pasted or uploaded receipt was signed by this registry's key and is unchanged."""
    try:
        checked = receipts.verify_text(text, current_signing_key().public_key())
    except receipts.ReceiptInvalid as error:
        return ReceiptCheck(False, reason=error.reason)
    return ReceiptCheck(True, body=checked.body, key_id=checked.key_id)
