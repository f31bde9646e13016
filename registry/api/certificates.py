"""API routes: certificates, companies, status on a date, bulk verification, complaint statistics, ledger."""
from __future__ import annotations

import math
import re

from flask import jsonify, request
from flask_babel import gettext as _

from registry import clock
from registry.api import api_limit, bp, verify_limit
from registry.certificates.rules import CertificateStatus
from registry.certificates.services import CertificateFilters, get_certificate
from registry.errors import NotFound, ValidationError
from registry.extensions import db, limiter
from registry.procurement import bulk, services

DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_TEXT = 200
VERIFY_KEYS = {"identifiers", "on", "receipt"}


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,10}", raw) or not (low <= int(raw) <= high):
        message = _("Must be a whole number from %(low)s to %(high)s.", low=low, high=high)
        raise ValidationError(message, fields={name: message})
    return int(raw)


def _text_arg(name: str) -> str | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if len(raw) > MAX_TEXT:
        message = _("At most %(n)s characters.", n=MAX_TEXT)
        raise ValidationError(message, fields={name: message})
    return raw.strip() or None


def _date_value(raw, name: str = "on"):
    if raw is None:
        return None
    if not isinstance(raw, str) or not DATE_PATTERN.fullmatch(raw):
        raise ValidationError(_("Enter the date as YYYY-MM-DD."), fields={name: _("Enter the date as YYYY-MM-DD.")})
    return services.parse_day(raw, name)


@bp.route("/certificates")
@limiter.limit(api_limit)
def search_certificates():
    """Search with filters and pagination."""
    # Present but empty is not "any status": the schema's enum has no empty value, so say so.
    raw_status = request.args.get("status")
    status = _text_arg("status")
    if raw_status is not None and status not in {s.value for s in CertificateStatus}:
        raise ValidationError(_("Unknown status."), fields={"status": _("Unknown status.")})
    filters = CertificateFilters(level=_text_arg("level"), status=status, province=_text_arg("province"),
                                 industry=_text_arg("industry"), scheme=_text_arg("scheme"))
    page = _int_arg("page", 1, 1, 100000)
    per_page = _int_arg("per_page", 20, 1, services.API_MAX_PER_PAGE)
    pagination = services.search_certificates(filters, _text_arg("q") or "", page, per_page)
    today = clock.today()
    return jsonify({
        "items": [services.certificate_as_dict(c, today) for c in pagination.items],
        "page": page, "per_page": per_page, "total": pagination.total,
        "pages": max(1, math.ceil((pagination.total or 0) / per_page)),
    })


@bp.route("/certificates/<number>")
@limiter.limit(api_limit)
def certificate(number: str):
    """One certificate by its number."""
    return jsonify(services.certificate_as_dict(_certificate(number)))


def _certificate(number: str):
    if len(number) > MAX_TEXT:
        raise NotFound(_("No certificate with this number is in the register."))
    try:
        return get_certificate(number)
    except NotFound as error:
        raise NotFound(_("No certificate with this number is in the register.")) from error


@bp.route("/certificates/<number>/status")
@limiter.limit(api_limit)
def certificate_status(number: str):
    """The status and level on a given day (default today), from the ledger."""
    day = _date_value(request.args.get("on")) or clock.today()
    certificate = _certificate(number)
    _certificate_obj, state = services.certificate_status_on(certificate.number, day)
    return jsonify({
        "number": certificate.number, "on": day.isoformat(), "issued": state.issued,
        "status": state.status.value if state.status else None, "level": state.level,
        "scheme": state.scheme_id, "expires_on": state.expires_on.isoformat() if state.expires_on else None,
        "ledger_seq": state.entry_seq, "status_today": certificate.effective_status(clock.today()).value,
    })


@bp.route("/certificates/<number>/complaints")
@limiter.limit(api_limit)
def certificate_complaints(number: str):
    """Complaint statistics of one certificate (null while the statistics are not available)."""
    certificate = _certificate(number)
    stats = services.complaint_statistics(certificate)
    return jsonify({"number": certificate.number, "available": stats is not None, "statistics": stats})


@bp.route("/companies/<uscc>")
@limiter.limit(api_limit)
def company(uscc: str):
    """A company and its certificates by unified social credit code."""
    if len(uscc) > MAX_TEXT:
        raise NotFound(_("No company with this credit code is in the register."))
    try:
        found, certificates = services.certificates_of_company(uscc)
    except ValidationError as error:
        # A malformed code names no company: 404, with the reason in the message.
        raise NotFound(error.message) from error
    today = clock.today()
    return jsonify({"name": found.name, "uscc": found.uscc, "province": found.province, "city": found.city,
                    "industry": found.industry,
                    "certificates": [services.certificate_as_dict(c, today) for c in certificates]})


@bp.route("/verify", methods=["POST"])
@limiter.limit(verify_limit)
def verify():
    """Bulk verification of up to 1,000 identifiers, optionally with a signed receipt."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ValidationError(_("Send a JSON object such as {\"identifiers\": [\"…\"], \"on\": \"2026-06-01\"}."))
    unknown = set(payload) - VERIFY_KEYS
    if unknown:
        raise ValidationError(_("Unknown fields."), fields={k: _("Unknown field.") for k in sorted(unknown)[:10]})
    try:
        identifiers = bulk.check_identifiers(payload.get("identifiers"), bulk.API_MAX_IDENTIFIERS)
    except ValueError as error:
        message = _identifier_error(str(error))
        raise ValidationError(message, fields={"identifiers": message}) from error
    if "on" in payload and not isinstance(payload["on"], str):
        # The schema says string: null is not "today" (a client bug would otherwise go unnoticed).
        raise ValidationError(_("Enter the date as YYYY-MM-DD."), fields={"on": _("Enter the date as YYYY-MM-DD.")})
    on = _date_value(payload.get("on")) if "on" in payload else None
    wants_receipt = payload.get("receipt", False)
    if not isinstance(wants_receipt, bool):
        raise ValidationError(_("Must be true or false."), fields={"receipt": _("Must be true or false.")})
    result = bulk.verify_identifiers(identifiers, on)
    body = bulk.result_as_dict(result)
    if wants_receipt:
        body["receipt"] = services.issue_receipt(result, identifiers)
        db.session.commit()  # the checkpoint the receipt cites is kept for good
    return jsonify(body)


def _identifier_error(code: str) -> str:
    return {
        "not_a_list": _("“identifiers” must be a list of strings."),
        "not_a_string": _("Every identifier must be a string."),
        "empty": _("Give at least one identifier."),
        "too_many": _("At most %(n)s identifiers per request.", n=bulk.API_MAX_IDENTIFIERS),
        "too_long": _("An identifier may have at most %(n)s characters.", n=bulk.MAX_IDENTIFIER_LENGTH),
    }.get(code, _("The identifiers could not be read."))


@bp.route("/ledger")
@limiter.limit(api_limit)
def ledger():
    """Ledger entries after a sequence number, oldest first, with the head (for mirrors and auditors)."""
    after = _int_arg("after", 0, 0, 2_000_000_000)
    limit = _int_arg("limit", 100, 1, services.LEDGER_MAX_LIMIT)
    entries = services.ledger_entries(after, limit)
    head = services.ledger_head()
    return jsonify({
        "entries": [services.ledger_entry_as_dict(e) for e in entries],
        "head": {"seq": head.seq, "hash": head.hash} if head else None,
        "next_after": entries[-1].seq if len(entries) == limit else None,
    })


@bp.route("/schemes")
@limiter.limit(api_limit)
def schemes():
    """The certification schemes and their levels (a level means nothing without its scheme)."""
    from registry.schemes import all_schemes
    return jsonify({"items": [{
        "id": s.id, "name": {"zh": s.name_zh, "en": s.name_en}, "standard": s.standard, "scale": float(s.scale),
        "levels": [{"id": lv.id, "name": {"zh": lv.name_zh, "en": lv.name_en}, "stars": lv.stars,
                    "min_score": float(lv.min_score)} for lv in s.levels],
    } for s in all_schemes().values()]})
