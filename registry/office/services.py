"""Back-office use cases: companies, certificates, audits, issue, surveillance, recertification, special audit.

Permissions are checked here, whatever the page shows: staff (admin, officer, moderator) may read,
only officers and admins (lifecycle.DECIDING_ROLES) may change anything. Services never commit.
Rule of the house: an audit never lifts a sanction. A passing surveillance or recertification audit lifts
only the automatic suspension for overdue surveillance; a suspension decided by an officer needs "restore".
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from registry import clock
from registry.accounts.models import Role
from registry.certificates import lifecycle, rules
from registry.certificates.identifiers import normalise_uscc
from registry.certificates.lifecycle import require_deciding_role, require_reason
from registry.certificates.models import Audit, Certificate, Company
from registry.certificates.rules import (
    TERMINAL_STATUSES,
    AuditKind,
    CertificateStatus,
    EnterpriseType,
    IndicatorScore,
    LifecycleAction,
    ScoreResult,
    ScoringError,
)
from registry.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from registry.extensions import db
from registry.ledger.messages import N_, LedgerMessage, Level, Words
from registry.ledger.models import LedgerEntry
from registry.ledger.services import lock_head
from registry.office import numbering
from registry.schemes import Scheme, all_schemes, get_scheme

STAFF_ROLES = (Role.ADMIN, Role.OFFICER, Role.MODERATOR)
OVERDUE_CAUSE = lifecycle.OVERDUE_CAUSE


def _public(make_text) -> str:
    """Text in the registry's default language (ledger texts are LedgerMessages rendered by the lifecycle)."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return make_text()


# --- permissions -----------------------------------------------------------------------------------

def require_staff(actor) -> None:
    """Reading the back office: staff of the certification body only (never company accounts)."""
    if actor is None or not hasattr(actor, "has_role") or not actor.has_role(*STAFF_ROLES):
        raise PermissionDenied(_("Only staff of the certification body may use the back office."))


def can_decide(actor) -> bool:
    return actor is not None and actor.has_role(*lifecycle.DECIDING_ROLES)


# --- lookups ---------------------------------------------------------------------------------------

def get_company(actor, company_id: int) -> Company:
    """Raises: PermissionDenied, NotFound."""
    require_staff(actor)
    company = db.session.get(Company, company_id)
    if company is None:
        raise NotFound()
    return company


def get_certificate(actor, number: str) -> Certificate:
    """Raises: PermissionDenied, NotFound."""
    require_staff(actor)
    certificate = db.session.scalar(select(Certificate).where(Certificate.number == number)
                                    .options(joinedload(Certificate.company)))
    if certificate is None:
        raise NotFound()
    return certificate


def get_audit(actor, audit_id: int) -> Audit:
    """Raises: PermissionDenied, NotFound."""
    require_staff(actor)
    audit = db.session.get(Audit, audit_id)
    if audit is None:
        raise NotFound()
    return audit


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_companies(actor, query: str, page: int, per_page: int = 50):
    """Companies by name or credit code fragment, newest first."""
    require_staff(actor)
    stmt = select(Company).order_by(Company.id.desc())
    text = (query or "").strip()
    if text:
        stmt = stmt.where(or_(Company.name.like(_like(text), escape="\\"), Company.uscc.like(_like(text.upper()), escape="\\")))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def search_certificates(actor, query: str, page: int, per_page: int = 50):
    """Certificates by number, company name or credit code fragment, newest first."""
    require_staff(actor)
    stmt = (select(Certificate).join(Certificate.company).options(joinedload(Certificate.company))
            .order_by(Certificate.id.desc()))
    text = (query or "").strip()
    if text:
        stmt = stmt.where(or_(Certificate.number.like(_like(text.upper()), escape="\\"),
                              Company.name.like(_like(text), escape="\\"),
                              Company.uscc.like(_like(text.upper()), escape="\\")))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


@dataclass
class Dashboard:
    surveillance: list[tuple[Certificate, bool]]   # (certificate, overdue?)
    suspensions_ending: list[Certificate]
    expiring: list[Certificate]
    awaiting_issue: list[Audit]


def dashboard(actor, today: dt.date | None = None, horizon_days: int = 60) -> Dashboard:
    """What needs doing: surveillance due or overdue, suspensions ending, certificates expiring, audits to issue."""
    require_staff(actor)
    today = today or clock.today()
    live = (Certificate.status.in_([CertificateStatus.VALID.value, CertificateStatus.SUSPENDED.value]),
            Certificate.expires_on >= today)
    grace = dt.timedelta(days=int(current_app.config["SURVEILLANCE_GRACE_DAYS"]))
    due = db.session.scalars(
        select(Certificate).where(*live, Certificate.surveillance_due_on <= today + dt.timedelta(days=horizon_days))
        .options(joinedload(Certificate.company)).order_by(Certificate.surveillance_due_on).limit(200)).all()
    ending = db.session.scalars(
        select(Certificate).where(*live, Certificate.status == CertificateStatus.SUSPENDED.value,
                                  Certificate.suspended_until.is_not(None),
                                  Certificate.suspended_until <= today + dt.timedelta(days=30))
        .options(joinedload(Certificate.company)).order_by(Certificate.suspended_until).limit(200)).all()
    expiring = db.session.scalars(
        select(Certificate).where(*live, Certificate.expires_on <= today + dt.timedelta(days=90))
        .options(joinedload(Certificate.company)).order_by(Certificate.expires_on).limit(200)).all()
    awaiting = db.session.scalars(
        select(Audit).where(Audit.kind == AuditKind.INITIAL.value, Audit.passed.is_(True), Audit.certificate_id.is_(None))
        .options(joinedload(Audit.company)).order_by(Audit.audited_on.desc()).limit(200)).all()
    return Dashboard([(c, c.surveillance_due_on + grace < today) for c in due], list(ending), list(expiring), list(awaiting))


# --- companies -------------------------------------------------------------------------------------

COMPANY_PUBLIC_FIELDS = ("name", "province", "city", "address", "industry", "enterprise_type")
COMPANY_LIMITS = {"name": 200, "province": 20, "city": 40, "address": 300, "industry": 40}


def _clean_company_fields(values: dict) -> dict:
    cleaned, errors = {}, {}
    for name in COMPANY_PUBLIC_FIELDS:
        value = (values.get(name) or "").strip()
        if name == "enterprise_type":
            if value not in {t.value for t in EnterpriseType}:
                errors[name] = _("Choose the kind of enterprise.")
        elif name in ("name", "province", "industry") and not value:
            errors[name] = _("This field is required.")
        elif len(value) > COMPANY_LIMITS[name]:
            errors[name] = _("At most %(n)s characters.", n=COMPANY_LIMITS[name])
        if name == "name" and value and len(value) < 2:
            errors[name] = _("The name is too short.")
        cleaned[name] = value
    if errors:
        raise ValidationError(_("Some of what you entered is not valid."), fields=errors)
    return cleaned


def create_company(actor, **values) -> Company:
    """Register a company (before its initial audit).

    Raises: PermissionDenied, ValidationError (bad field, malformed or duplicate credit code).
    """
    require_deciding_role(actor)
    cleaned = _clean_company_fields(values)
    try:
        uscc = normalise_uscc(values.get("uscc") or "")
    except ValueError:
        raise ValidationError(_("Some of what you entered is not valid."),
                              fields={"uscc": _("This is not a valid unified social credit code.")}) from None
    if db.session.scalar(select(Company).where(Company.uscc == uscc)) is not None:
        raise ValidationError(_("Some of what you entered is not valid."),
                              fields={"uscc": _("A company with this credit code is already registered.")})
    company = Company(uscc=uscc, former_names=[], **cleaned)
    db.session.add(company)
    db.session.flush()
    return company


def update_company(actor, company: Company, *, reason: str, **values) -> dict:
    """Change a company's public details; every certificate of the company gets an "updated" ledger entry.

    A changed name is kept among the former names, so people holding an old box still find the company.
    Returns the changes {field: [old, new]}.
    Raises: PermissionDenied, ValidationError.
    """
    require_deciding_role(actor)
    reason = require_reason(reason)
    cleaned = _clean_company_fields(values)
    # Lock order: ledger, the company's certificates, the company; then compare with the fresh row.
    certificates = lifecycle.lock_company(company)
    changes = {name: [getattr(company, name), value] for name, value in cleaned.items() if getattr(company, name) != value}
    if not changes:
        raise ValidationError(_("Nothing was changed."))
    if "name" in changes and company.name not in (company.former_names or []):
        company.former_names = [*(company.former_names or []), company.name]
    for name, (_old, new) in changes.items():
        setattr(company, name, new)
    db.session.flush()
    message = LedgerMessage(N_("Company details changed: %(fields)s."), fields=_field_words(changes))
    for certificate in certificates:
        lifecycle.record_event(certificate, "updated", actor_role=actor.role, reason=reason, message=message,
                               extra={"changes": changes})
    return changes


FIELD_WORDS = {"name": N_("name"), "province": N_("province"), "city": N_("city"), "address": N_("address"),
               "industry": N_("industry"), "enterprise_type": N_("kind of enterprise"), "scope": N_("scope"),
               "service_sites": N_("service sites")}


def _field_words(names) -> Words:
    """Changed field names as a ledger parameter, translated for each reader."""
    return Words(tuple(LedgerMessage(FIELD_WORDS[n]) if n in FIELD_WORDS else n for n in names))


# --- certificates: public details -------------------------------------------------------------------

def _clean_scope(scope: str, sites) -> tuple[str, list[str]]:
    scope = (scope or "").strip()
    if len(scope) < 2 or len(scope) > 2000:
        raise ValidationError(_("Some of what you entered is not valid."),
                              fields={"scope": _("Describe the certified service (2 to 2000 characters).")})
    if isinstance(sites, str):
        sites = sites.splitlines()
    cleaned = [s.strip() for s in (sites or []) if s and s.strip()]
    if len(cleaned) > 200 or any(len(s) > 200 for s in cleaned):
        raise ValidationError(_("Some of what you entered is not valid."),
                              fields={"service_sites": _("At most 200 sites of 200 characters each.")})
    return scope, cleaned


def update_certificate(actor, certificate: Certificate, *, scope: str, service_sites, reason: str) -> dict:
    """Change the scope or service sites of a certificate in force; logged as "updated".

    Raises: PermissionDenied, ValidationError, InvalidTransition (revoked, withdrawn, expired).
    """
    require_deciding_role(actor)
    reason = require_reason(reason)
    lifecycle.lock_certificates(certificate)
    status = certificate.effective_status(clock.today())
    if status in TERMINAL_STATUSES:
        raise InvalidTransition(_("This certificate is no longer in force; its details cannot be changed."))
    scope, sites = _clean_scope(scope, service_sites)
    changes = {}
    if scope != certificate.scope:
        changes["scope"] = [certificate.scope, scope]
    if sites != list(certificate.service_sites or []):
        changes["service_sites"] = [list(certificate.service_sites or []), sites]
    if not changes:
        raise ValidationError(_("Nothing was changed."))
    lifecycle.update_details(certificate, actor=actor, reason=reason, changes={"scope": scope, "service_sites": sites},
                             message=LedgerMessage(N_("Certificate details changed: %(fields)s."),
                                                   fields=_field_words(changes)),
                             extra={"changes": changes})
    return changes


# --- audits: scoring -------------------------------------------------------------------------------

@dataclass
class AuditInput:
    """What an auditor enters: a full score sheet, or totals only."""
    audited_on: dt.date | None
    mode: str = "sheet"                                   # "sheet" or "total"
    earned: dict[str, str | None] = field(default_factory=dict)   # indicator id -> points (text)
    excluded: set[str] = field(default_factory=set)
    earned_total: str | None = None
    applicable_total: str | None = None
    special_deductions: int | None = 0
    bonus: str | None = "0"
    notes: str = ""


def _decimal(raw, name: str, errors: dict) -> Decimal | None:
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        errors[name] = _("Enter a number.")
        return None
    if not value.is_finite() or abs(value) > 1_000_000:
        errors[name] = _("Enter a number.")
        return None
    if value != value.quantize(Decimal("0.01")):
        errors[name] = _("At most two decimals.")
        return None
    return value


def score_audit(scheme: Scheme, data: AuditInput, *, not_before: dt.date | None = None) -> tuple[ScoreResult, dict]:
    """Validate the audit input and score it with rules.score_sheet / score_from_totals.

    Returns (result, raw) where raw holds the validated inputs to store on the Audit.
    Raises: ValidationError with per-field messages.
    """
    errors: dict[str, str] = {}
    today = clock.today()
    if data.audited_on is None:
        errors["audited_on"] = _("Enter the audit date.")
    elif data.audited_on > today:
        errors["audited_on"] = _("The audit date cannot be in the future.")
    elif not_before and data.audited_on < not_before:
        errors["audited_on"] = _("The audit date cannot be before %(day)s.", day=not_before.isoformat())
    deductions = data.special_deductions if data.special_deductions is not None else 0
    if deductions < 0 or deductions > 100:
        errors["special_deductions"] = _("Between 0 and 100.")
    bonus = _decimal(data.bonus, "bonus", errors) or Decimal(0)
    if "bonus" not in errors and not (Decimal(0) <= bonus <= scheme.bonus_max):
        errors["bonus"] = _("Between 0 and %(max)s.", max=scheme.bonus_max)
    notes = (data.notes or "").strip()
    if len(notes) > 4000:
        errors["notes"] = _("At most %(n)s characters.", n=4000)

    raw: dict = {"special_deductions": deductions, "bonus": bonus, "notes": notes, "sheet": None,
                 "earned": None, "applicable": None}
    if data.mode == "total":
        earned = _decimal(data.earned_total, "earned_total", errors)
        applicable = _decimal(data.applicable_total, "applicable_total", errors)
        if earned is None and "earned_total" not in errors:
            errors["earned_total"] = _("Enter the points earned.")
        if applicable is None and "applicable_total" not in errors:
            errors["applicable_total"] = _("Enter the applicable maximum.")
        if applicable is not None and not (Decimal(0) < applicable <= scheme.scale):
            errors["applicable_total"] = _("Between 0 and %(max)s.", max=scheme.scale)
        elif earned is not None and applicable is not None and not (Decimal(0) <= earned <= applicable):
            errors["earned_total"] = _("Between 0 and the applicable maximum.")
        if errors:
            raise ValidationError(_("The audit cannot be scored yet: check the marked fields."), fields=errors)
        raw.update(earned=earned, applicable=applicable)
        return rules.score_from_totals(scheme, earned, applicable, deductions, bonus), raw
    if data.mode != "sheet":
        raise ValidationError(_("Choose how the audit is entered."), fields={"mode": data.mode})
    sheet = []
    for indicator in scheme.indicators:
        key = f"earned_{indicator.id}"
        excluded = indicator.id in data.excluded
        value = _decimal(data.earned.get(indicator.id), key, errors)
        if excluded:
            value = None
        elif value is None and key not in errors:
            errors[key] = _("Enter the points earned, or tick \"excluded\".")
        elif value is not None and not (Decimal(0) <= value <= indicator.max_points):
            errors[key] = _("Between 0 and %(max)s.", max=indicator.max_points)
        sheet.append(IndicatorScore(indicator.id, value if value is not None else Decimal(0), indicator.max_points, excluded))
    if not errors and all(item.excluded for item in sheet):
        errors["mode"] = _("Every indicator is excluded: there is nothing to score.")
    if errors:
        raise ValidationError(_("The audit cannot be scored yet: check the marked fields."), fields=errors)
    try:
        result = rules.score_sheet(scheme, sheet, deductions, bonus)
    except ScoringError as error:  # the checks above should have caught it; never a 500
        raise ValidationError(_("The score sheet is not valid."), fields={"mode": str(error)}) from error
    raw.update(earned=result.earned, applicable=result.applicable_maximum,
               sheet=[{"indicator": i.indicator_id, "earned": str(i.earned) if not i.excluded else None,
                       "maximum": str(i.maximum), "excluded": i.excluded} for i in sheet])
    return result, raw


def _new_audit(company: Company, scheme: Scheme, kind: AuditKind, data: AuditInput, result: ScoreResult, raw: dict,
               certificate: Certificate | None = None) -> Audit:
    audit = Audit(company=company, certificate=certificate, scheme_id=scheme.id, kind=kind.value,
                  audited_on=data.audited_on, indicator_scores=raw["sheet"], earned_points=raw["earned"],
                  applicable_points=raw["applicable"], special_deductions=raw["special_deductions"], bonus=raw["bonus"],
                  score=result.score, level=result.level.id if result.level else None, passed=result.passed,
                  formula_version=scheme.formula_version, notes=raw["notes"])
    db.session.add(audit)
    db.session.flush()
    return audit


def scheme_or_error(scheme_id: str | None) -> Scheme:
    scheme = get_scheme(scheme_id or "")
    if scheme is None:
        raise ValidationError(_("Choose a scheme."), fields={"scheme": _("Unknown scheme.")})
    return scheme


def preview_audit(actor, scheme: Scheme, data: AuditInput, certificate: Certificate | None = None) -> ScoreResult:
    """Score without saving anything (the page shows score and level before the officer saves).

    Raises: PermissionDenied, ValidationError.
    """
    require_deciding_role(actor)
    result, _raw = score_audit(scheme, data, not_before=certificate.last_audit_on if certificate else None)
    return result


def record_initial_audit(actor, company: Company, scheme_id: str, data: AuditInput) -> Audit:
    """Store an initial audit; if it passed, a certificate can then be issued from it.

    Raises: PermissionDenied, ValidationError.
    """
    require_deciding_role(actor)
    scheme = scheme_or_error(scheme_id)
    result, raw = score_audit(scheme, data)
    return _new_audit(company, scheme, AuditKind.INITIAL, data, result, raw)


# --- issuing ---------------------------------------------------------------------------------------

def next_certificate_number(first_issued_on: dt.date) -> str:
    """The next free number under CERTIFICATE_NUMBER_PATTERN for the year of issue."""
    pattern = current_app.config["CERTIFICATE_NUMBER_PATTERN"]
    cb = str(current_app.config["CERTIFICATE_NUMBER_CB"])
    year = first_issued_on.year
    start = dt.date(year, 1, 1)
    serial = db.session.scalar(select(func.count()).select_from(Certificate)
                               .where(Certificate.first_issued_on >= start,
                                      Certificate.first_issued_on < start.replace(year=year + 1))) + 1
    while True:
        try:
            number = numbering.format_number(pattern, cb=cb, year=year, serial=serial, recert=0)
        except numbering.PatternError as error:
            raise ValidationError(_("The certificate number pattern is misconfigured: %(detail)s", detail=str(error))) from error
        if db.session.scalar(select(Certificate.id).where(Certificate.number == number)) is None:
            return number
        serial += 1


def _first_level(scheme: Scheme) -> str:
    return scheme.levels[0].id


def _check_outstanding(outstanding: bool, outstanding_reason: str | None) -> str:
    text = (outstanding_reason or "").strip()
    if outstanding and len(text) < 2:
        raise ValidationError(_("Say what makes the results outstanding."),
                              fields={"outstanding_reason": _("A reason is required.")})
    return text


def issue_certificate(actor, audit: Audit, *, scope: str, service_sites, reason: str, outstanding: bool = False,
                      outstanding_reason: str = "") -> Certificate:
    """Issue a certificate from a passing initial audit: new number, validity from today, ledger "issued".

    Policy STARS_REQUIRE_YEAR_AT_COMPLIANT: a company's first certificate in a scheme is issued at the
    lowest level (达标) unless the officer declares outstanding results, with a reason.
    Raises: PermissionDenied, ValidationError.
    """
    require_deciding_role(actor)
    reason = require_reason(reason)
    if audit.kind != AuditKind.INITIAL.value:
        raise ValidationError(_("A certificate is issued from an initial audit."))
    if audit.certificate_id is not None:
        raise ValidationError(_("A certificate has already been issued from this audit."))
    if not audit.passed or audit.level is None:
        raise ValidationError(_("This audit did not pass; no certificate can be issued from it."))
    scheme = scheme_or_error(audit.scheme_id)
    scope, sites = _clean_scope(scope, service_sites)
    outstanding_reason = _check_outstanding(outstanding, outstanding_reason)
    lock_head()  # first of the lock order; it also serialises issuers, so two never compute the same number
    today = clock.today()
    level, capped = audit.level, False
    first_in_scheme = db.session.scalar(select(func.count()).select_from(Certificate).where(
        Certificate.company_id == audit.company_id, Certificate.scheme_id == scheme.id)) == 0
    if (current_app.config["STARS_REQUIRE_YEAR_AT_COMPLIANT"] and first_in_scheme
            and level != _first_level(scheme) and not outstanding):
        level, capped = _first_level(scheme), True
    certificate = Certificate(number=next_certificate_number(today), company_id=audit.company_id, scheme_id=scheme.id,
                              level=level, score=audit.score, scope=scope, service_sites=sites, issued_on=today,
                              expires_on=rules.default_expiry(scheme, today), first_issued_on=today,
                              status=CertificateStatus.VALID.value, status_reason="", recertification_count=0,
                              surveillance_count=0)
    lifecycle.issue(certificate, actor=actor, reason=reason, effective_on=today,
                    message=LedgerMessage(N_("Issued at level %(level)s (audit score %(score)s)."),
                                          level=Level(scheme.id, level), score=audit.score),
                    extra={"audit_id": audit.id, "audit_level": audit.level, "capped_by_policy": capped,
                           "outstanding": outstanding, "outstanding_reason": outstanding_reason})
    audit.certificate = certificate
    return certificate


# --- surveillance, recertification, special audits -------------------------------------------------

@dataclass
class AuditOutcome:
    audit: Audit
    passed: bool
    level_before: str
    level_after: str
    restored: bool = False
    capped: bool = False     # a raise held back by the year-at-达标 policy


def suspended_for_overdue_surveillance(certificate: Certificate) -> bool:
    """Stored as suspended by the daily tick because surveillance was overdue (not an officer's sanction)."""
    return lifecycle.is_overdue_suspension(certificate)


def _level_rank(scheme: Scheme, level_id: str) -> int:
    return [lvl.id for lvl in scheme.levels].index(level_id)


def _at_level_since(certificate: Certificate) -> dt.date:
    last_change = db.session.scalar(select(LedgerEntry.effective_on).where(
        LedgerEntry.certificate_number == certificate.number, LedgerEntry.kind == "level_changed")
        .order_by(LedgerEntry.seq.desc()).limit(1))
    return last_change or certificate.first_issued_on


def _decide_level(certificate: Certificate, result: ScoreResult, *, apply_raise: bool, outstanding: bool) -> tuple[str, bool]:
    """The level after a passing audit: a lower result always lowers; a higher one raises if the officer
    says so and the stars policy allows it. Returns (level, capped_by_policy)."""
    scheme = certificate.scheme
    current, found = certificate.level, result.level.id
    if _level_rank(scheme, found) <= _level_rank(scheme, current):
        return found, False
    if not apply_raise:
        return current, False
    if (current_app.config["STARS_REQUIRE_YEAR_AT_COMPLIANT"] and current == _first_level(scheme) and not outstanding
            and clock.today() < rules.add_years(_at_level_since(certificate), 1)):
        return current, True
    return found, False


AUDIT_KIND_WORDS = {AuditKind.SURVEILLANCE: N_("Surveillance audit"), AuditKind.RECERTIFICATION: N_("Recertification audit"),
                    AuditKind.SPECIAL: N_("Special audit")}


def _audit_text(kind: AuditKind, result: ScoreResult, scheme: Scheme) -> LedgerMessage:
    kind_word = LedgerMessage(AUDIT_KIND_WORDS[kind])
    if result.passed:
        return LedgerMessage(N_("%(kind)s passed: score %(score)s, result %(level)s."), kind=kind_word,
                             score=result.score, level=Level(scheme.id, result.level.id))
    return LedgerMessage(N_("%(kind)s not passed: score %(score)s."), kind=kind_word, score=result.score)


def _record_scored_audit(actor, certificate: Certificate, kind: AuditKind, action: LifecycleAction, data: AuditInput,
                         reason: str, refuse_sanctioned: bool = False):
    require_deciding_role(actor)
    reason = require_reason(reason)
    lifecycle.begin_audit(certificate, action, actor=actor, refuse_sanctioned=refuse_sanctioned)  # locks, then checks
    today = clock.today()
    scheme = certificate.scheme
    result, raw = score_audit(scheme, data, not_before=certificate.last_audit_on)
    audit = _new_audit(certificate.company, scheme, kind, data, result, raw, certificate)
    return reason, today, scheme, result, audit


def record_surveillance_audit(actor, certificate: Certificate, data: AuditInput, *, reason: str, apply_raise: bool = True,
                              outstanding: bool = False, outstanding_reason: str = "") -> AuditOutcome:
    """A surveillance audit: when passed it moves the next due date, counts, may change the level, and lifts
    an overdue-surveillance suspension. A failed one is recorded; the officer then suspends or revokes.

    Raises: PermissionDenied, ValidationError, InvalidTransition.
    """
    require_deciding_role(actor)
    _check_outstanding(outstanding, outstanding_reason)
    reason, today, scheme, result, audit = _record_scored_audit(
        actor, certificate, AuditKind.SURVEILLANCE, LifecycleAction.SURVEILLANCE, data, reason)
    before = certificate.level
    outcome = AuditOutcome(audit, result.passed, before, before)
    _entry, outcome.restored = lifecycle.record_audit(
        certificate, actor=actor, reason=reason, passed=result.passed, score=result.score,
        surveillance_on=data.audited_on, message=_audit_text(AuditKind.SURVEILLANCE, result, scheme),
        extra={"audit_id": audit.id, "audit_kind": audit.kind, "score": str(result.score), "passed": result.passed})
    if result.passed:
        _apply_level(actor, certificate, result, reason, outcome, apply_raise, outstanding, outstanding_reason)
    return outcome


def _apply_level(actor, certificate, result, reason, outcome, apply_raise, outstanding, outstanding_reason):
    level, capped = _decide_level(certificate, result, apply_raise=apply_raise, outstanding=outstanding)
    outcome.capped = capped
    if level != certificate.level:
        scheme = certificate.scheme
        lifecycle.change_level(certificate, new_level=level, reason=reason, actor=actor, score=result.score,
                               message=LedgerMessage(N_("Level changed from %(before)s to %(after)s after an audit."),
                                                     before=Level(scheme.id, certificate.level),
                                                     after=Level(scheme.id, level)),
                               extra={"audit_id": outcome.audit.id, "outstanding": outstanding,
                                      "outstanding_reason": outstanding_reason})
    outcome.level_after = certificate.level


def record_special_audit(actor, certificate: Certificate, data: AuditInput, *, reason: str, apply_raise: bool = False,
                         outstanding: bool = False, outstanding_reason: str = "") -> AuditOutcome:
    """A special (short-notice) audit, e.g. after validated complaints: may change the level; dates stay.

    Raises: PermissionDenied, ValidationError, InvalidTransition.
    """
    require_deciding_role(actor)
    _check_outstanding(outstanding, outstanding_reason)
    reason, today, scheme, result, audit = _record_scored_audit(
        actor, certificate, AuditKind.SPECIAL, LifecycleAction.CHANGE_LEVEL, data, reason)
    outcome = AuditOutcome(audit, result.passed, certificate.level, certificate.level)
    lifecycle.record_audit(certificate, actor=actor, reason=reason, passed=result.passed, score=result.score,
                           message=_audit_text(AuditKind.SPECIAL, result, scheme),
                           extra={"audit_id": audit.id, "audit_kind": audit.kind, "score": str(result.score),
                                  "passed": result.passed})
    if result.passed:
        _apply_level(actor, certificate, result, reason, outcome, apply_raise, outstanding, outstanding_reason)
    return outcome


def record_recertification(actor, certificate: Certificate, data: AuditInput, *, reason: str, apply_raise: bool = True,
                           outstanding: bool = False, outstanding_reason: str = "") -> AuditOutcome:
    """Recertification before expiry: a new validity period from today, recertification count + 1, same number
    (printed QR codes keep working). Ledger "renewed" (and "level_changed" when the level moves).

    Raises: PermissionDenied, ValidationError, InvalidTransition (expired, revoked, withdrawn, sanctioned).
    """
    require_deciding_role(actor)
    _check_outstanding(outstanding, outstanding_reason)
    reason, today, scheme, result, audit = _record_scored_audit(
        actor, certificate, AuditKind.RECERTIFICATION, LifecycleAction.RECERTIFY, data, reason, refuse_sanctioned=True)
    outcome = AuditOutcome(audit, result.passed, certificate.level, certificate.level)
    if not result.passed:
        lifecycle.record_audit(certificate, actor=actor, reason=reason, passed=False, score=None,
                               message=_audit_text(AuditKind.RECERTIFICATION, result, scheme),
                               extra={"audit_id": audit.id, "audit_kind": audit.kind, "score": str(result.score),
                                      "passed": False})
        return outcome
    expires_on = rules.default_expiry(scheme, today)
    _entry, outcome.restored = lifecycle.renew_certificate(
        certificate, actor=actor, reason=reason, issued_on=today, expires_on=expires_on, score=result.score,
        message=LedgerMessage(N_("Renewed until %(day)s after a recertification audit (score %(score)s)."),
                              day=expires_on, score=result.score),
        extra={"audit_id": audit.id})
    _apply_level(actor, certificate, result, reason, outcome, apply_raise, outstanding, outstanding_reason)
    return outcome


# --- sanctions (thin wrappers: the lifecycle services do the work) ---------------------------------

def restore(actor, certificate: Certificate, *, reason: str):
    """Lift a suspension decided by the body. An overdue-surveillance suspension needs the audit instead.

    Raises: PermissionDenied, ValidationError, InvalidTransition.
    """
    return lifecycle.restore_certificate(certificate, reason=reason, actor=actor)


def default_suspension_end(today: dt.date | None = None) -> dt.date:
    """The latest end date the policy allows, offered as the default."""
    today = today or clock.today()
    return rules.latest_suspension_end(today, int(current_app.config["MAX_SUSPENSION_MONTHS"]))


def schemes_for_forms() -> list[Scheme]:
    return list(all_schemes().values())
