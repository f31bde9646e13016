"""The one lifecycle authority: every change of a certificate's status, level, validity or surveillance.

The back office, complaints (sanctions, appeals), the importer and the daily tick call these operations;
none of them writes certificate state directly. Each operation
1. takes the locks, in the one order below,
2. (re)reads the certificate's state under them,
3. checks the transition against rules.TRANSITIONS (and the date rules),
4. writes the row and its ledger entry (record_event), and queues the search update.

Lock order (the same everywhere, so two writers never wait on each other in a circle):
1. the ledger head: PostgreSQL advisory lock 272922 (transaction-scoped); SQLite: its single write lock,
   taken by a no-op write;
2. certificate rows, SELECT … FOR UPDATE, in ascending id order;
3. company rows, SELECT … FOR UPDATE, in ascending id order.
Nothing may write a certificate or company row before step 1 in the same transaction. All locks last
until the transaction ends (the view or CLI command commits).

Public texts are `LedgerMessage`s (registry.ledger.messages): the entry stores the message id and its
parameters, and its hashed text is rendered in the registry's legal language (zh-Hans), whatever the
actor's screen language. Services never commit; permissions are checked here, not only in templates.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from registry import clock
from registry.certificates import rules
from registry.certificates.models import Certificate, Company, status_policy
from registry.certificates.rules import CertificateStatus, IllegalTransition, LifecycleAction
from registry.errors import InvalidTransition, PermissionDenied, ValidationError
from registry.extensions import db
from registry.ledger.messages import N_, LedgerMessage, legal_text
from registry.ledger.models import LedgerEntry
from registry.ledger.services import append_entry, lock_head
from registry.search.outbox import queue_certificate

DECIDING_ROLES = frozenset({"admin", "officer", "system", "import", "demo"})
# The register import (and the demo loader, which imports fictional data): the only writers of sync_record.
IMPORT_ROLES = frozenset({"import", "demo"})
OVERDUE_CAUSE = "surveillance_overdue"
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class SystemActor:
    """The registry itself acting by rule (the daily tick, imports): recorded as a role, never a person."""
    role: str = "system"

    def has_role(self, *roles) -> bool:
        return self.role in {str(r) for r in roles}


SYSTEM = SystemActor()
IMPORT = SystemActor("import")
DEMO = SystemActor("demo")


# --- locks -----------------------------------------------------------------------------------------

def lock_certificates(*certificates: Certificate, companies=()) -> None:
    """Take the locks of a change in the documented order and re-read the rows under them.

    Pending changes of this session are flushed after the ledger lock (so they too are written under it);
    then the certificate rows, then the company rows, are locked in id order and reloaded, so the caller
    checks its transition against the state no one else can change until this transaction ends.
    """
    lock_head()
    db.session.flush()
    ids = sorted({c.id for c in certificates if c is not None and c.id is not None})
    if ids:
        db.session.scalars(select(Certificate).where(Certificate.id.in_(ids)).order_by(Certificate.id)
                           .with_for_update(of=Certificate).execution_options(populate_existing=True)).all()
    company_ids = sorted({c.id for c in companies if c is not None and c.id is not None})
    if company_ids:
        db.session.scalars(select(Company).where(Company.id.in_(company_ids)).order_by(Company.id)
                           .with_for_update(of=Company).execution_options(populate_existing=True)).all()


def lock_company(company: Company) -> list[Certificate]:
    """Lock a company and all its certificates (ledger, certificates by id, company); returns the certificates."""
    lock_head()
    certificates = list(db.session.scalars(select(Certificate).where(Certificate.company_id == company.id)
                                           .order_by(Certificate.id)))
    lock_certificates(*certificates, companies=[company])
    return certificates


# --- the ledger entry ------------------------------------------------------------------------------

def snapshot(certificate: Certificate) -> dict:
    """The dated facts the public status depends on, stored with each ledger entry."""
    def iso(day):
        return day.isoformat() if day else None
    return {
        "issued_on": iso(certificate.issued_on), "expires_on": iso(certificate.expires_on),
        "suspended_until": iso(certificate.suspended_until),
        "surveillance_due_on": iso(certificate.surveillance_due),
        "score": str(certificate.score) if certificate.score is not None else None,
    }


def record_event(certificate: Certificate, kind: str, *, actor_role: str, reason: str | LedgerMessage = "",
                 public_text: str | LedgerMessage = "", effective_on: dt.date | None = None,
                 extra: dict | None = None, message: LedgerMessage | None = None,
                 status_after: str | None = None) -> LedgerEntry:
    """Append a ledger entry for a change to `certificate` (after the change is applied) and queue search.

    `message` (or a LedgerMessage given as public_text) is stored as id and parameters, and its text in the
    legal language is hashed as public_text. `reason` is the actor's own words; a LedgerMessage reason (the
    registry's own, e.g. the tick's) is stored the same way. `status_after` overrides the stored status for
    events that record a computed status (expired).
    """
    lock_head()  # a no-op when this transaction already holds it
    if message is None and isinstance(public_text, LedgerMessage):
        message = public_text
    data = {}
    if message is not None:
        data["message"] = message.encode()
        public_text = legal_text(message)
    if isinstance(reason, LedgerMessage):
        data["reason_message"] = reason.encode()
        reason = legal_text(reason)
    certificate.refresh_derived_dates()
    data = {"snapshot": snapshot(certificate), **data, **(extra or {})}
    entry = append_entry(kind=kind, actor_role=actor_role, certificate=certificate,
                         effective_on=effective_on or clock.today(), status_after=status_after or certificate.status,
                         level_after=certificate.level, public_text=public_text, reason=reason, data=data)
    queue_certificate(certificate.id)
    return entry


# --- checks ----------------------------------------------------------------------------------------

def require_deciding_role(actor) -> None:
    """Certification decisions belong to officers and admins (and the registry's own rules)."""
    if actor is None or not actor.has_role(*DECIDING_ROLES):
        raise PermissionDenied(_("Only the certification body's officers may change a certificate."))


def require_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < 2:
        raise ValidationError(_("Give the reason for this action."), fields={"reason": _("A reason is required.")})
    return text


def _reason(reason) -> str | LedgerMessage:
    return reason if isinstance(reason, LedgerMessage) else require_reason(reason)


def _check_transition(certificate: Certificate, action: LifecycleAction, today: dt.date) -> CertificateStatus:
    try:
        return rules.next_status(certificate.effective_status(today), action)
    except IllegalTransition as error:
        raise InvalidTransition(_("This certificate is %(status)s; it cannot be changed this way.",
                                  status=_status_word(error.status))) from error


def _status_word(status: CertificateStatus) -> str:
    from registry.presenters import status_view
    return status_view(status).word


def is_overdue_suspension(certificate: Certificate) -> bool:
    """Stored as suspended by the daily tick because surveillance was overdue (not an officer's sanction)."""
    if certificate.status != CertificateStatus.SUSPENDED.value:
        return False
    last = db.session.scalar(select(LedgerEntry).where(LedgerEntry.certificate_number == certificate.number,
                                                        LedgerEntry.kind == "suspended")
                             .order_by(LedgerEntry.seq.desc()).limit(1))
    return last is not None and (last.data or {}).get("cause") == OVERDUE_CAUSE


def _status_reason_text(reason) -> str:
    return legal_text(reason) if isinstance(reason, LedgerMessage) else reason


# --- decisions -------------------------------------------------------------------------------------

def suspend_certificate(certificate: Certificate, *, reason, until: dt.date, actor,
                        message: LedgerMessage | None = None, extra: dict | None = None) -> LedgerEntry:
    """Suspend until a date at most MAX_SUSPENSION_MONTHS ahead; the mark may not be used meanwhile.

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    require_deciding_role(actor)
    reason = _reason(reason)
    today = clock.today()
    latest = rules.latest_suspension_end(today, current_app.config["MAX_SUSPENSION_MONTHS"])
    if until is None or until <= today or until > latest:
        raise ValidationError(_("The suspension must end after today and no later than %(day)s.", day=latest.isoformat()),
                              fields={"until": _("Choose a date up to %(day)s.", day=latest.isoformat())})
    lock_certificates(certificate)
    _check_transition(certificate, LifecycleAction.SUSPEND, today)
    certificate.status = CertificateStatus.SUSPENDED.value
    certificate.suspended_until = until
    certificate.status_reason = _status_reason_text(reason)
    certificate.status_changed_on = today
    return record_event(certificate, "suspended", actor_role=actor.role, reason=reason, extra=extra,
                        message=message or LedgerMessage(N_("Suspended until %(day)s."), day=until))


def _decide(certificate: Certificate, actor, reason, action: LifecycleAction):
    """The common start of a decision: the actor may decide, a reason is given, the certificate is locked,
    then its state (read under the lock) allows the action. Returns (reason, today, status after)."""
    require_deciding_role(actor)
    reason = _reason(reason)
    today = clock.today()
    lock_certificates(certificate)
    return reason, today, _check_transition(certificate, action, today)


def restore_certificate(certificate: Certificate, *, reason, actor, message: LedgerMessage | None = None,
                        extra: dict | None = None, allow_overdue: bool = False) -> LedgerEntry:
    """Lift a suspension decided by the body (an overdue-surveillance suspension needs the audit instead).

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    reason, today, _status = _decide(certificate, actor, reason, LifecycleAction.RESTORE)
    if certificate.status != CertificateStatus.SUSPENDED.value or (not allow_overdue and is_overdue_suspension(certificate)):
        # Suspended only because surveillance is overdue: only a surveillance audit lifts that.
        raise InvalidTransition(_("This certificate is suspended because its surveillance audit is overdue; record the surveillance audit instead."))
    certificate.status = CertificateStatus.VALID.value
    certificate.suspended_until = None
    certificate.status_reason = ""
    certificate.status_changed_on = today
    return record_event(certificate, "restored", actor_role=actor.role, reason=reason, extra=extra,
                        message=message or LedgerMessage(N_("Restored.")))


def _end(certificate: Certificate, action: LifecycleAction, kind: str, *, reason, actor,
         message: LedgerMessage | None = None, extra: dict | None = None) -> LedgerEntry:
    reason, today, new_status = _decide(certificate, actor, reason, action)
    certificate.status = new_status.value
    certificate.status_reason = _status_reason_text(reason)
    certificate.status_changed_on = today
    certificate.suspended_until = None
    return record_event(certificate, kind, actor_role=actor.role, reason=reason, message=message, extra=extra)


def revoke_certificate(certificate: Certificate, *, reason, actor, message: LedgerMessage | None = None,
                       extra: dict | None = None) -> LedgerEntry:
    """Revoke (撤销): final.

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    return _end(certificate, LifecycleAction.REVOKE, "revoked", reason=reason, actor=actor, message=message, extra=extra)


def withdraw_certificate(certificate: Certificate, *, reason, actor, message: LedgerMessage | None = None,
                         extra: dict | None = None) -> LedgerEntry:
    """Withdraw (注销), e.g. at the holder's request: final.

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    return _end(certificate, LifecycleAction.WITHDRAW, "withdrawn", reason=reason, actor=actor, message=message,
                extra=extra)


def change_level(certificate: Certificate, *, new_level: str, reason, actor, score: Decimal | None = None,
                 public_text: str | LedgerMessage = "", extra: dict | None = None,
                 message: LedgerMessage | None = None) -> LedgerEntry:
    """Raise or lower the level within the certificate's scheme (surveillance regrade, special audit, sanction).

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    require_deciding_role(actor)
    reason = _reason(reason)
    lock_certificates(certificate)
    _check_transition(certificate, LifecycleAction.CHANGE_LEVEL, clock.today())
    if certificate.scheme.level(new_level) is None:
        raise ValidationError(_("This level does not exist in the certificate's scheme."), fields={"level": new_level})
    if new_level == certificate.level:
        raise ValidationError(_("The certificate already has this level."), fields={"level": new_level})
    old_level = certificate.level
    certificate.level = new_level
    if score is not None:
        certificate.score = score
    return record_event(certificate, "level_changed", actor_role=actor.role, reason=reason, public_text=public_text,
                        message=message, extra={"level_before": old_level, **(extra or {})})


STATUS_ACTIONS = {CertificateStatus.SUSPENDED: LifecycleAction.SUSPEND, CertificateStatus.VALID: LifecycleAction.RESTORE,
                  CertificateStatus.REVOKED: LifecycleAction.REVOKE, CertificateStatus.WITHDRAWN: LifecycleAction.WITHDRAW}
STATUS_KINDS = {CertificateStatus.SUSPENDED: "suspended", CertificateStatus.VALID: "restored",
                CertificateStatus.REVOKED: "revoked", CertificateStatus.WITHDRAWN: "withdrawn"}


def apply_status(certificate: Certificate, status: CertificateStatus | str, *, reason, actor,
                 effective_on: dt.date | None = None, until: dt.date | None = None,
                 message: LedgerMessage | None = None, extra: dict | None = None) -> LedgerEntry:
    """Move a certificate to a stored status by the transition table (for the importer: dated, e.g. back-dated).

    Unlike the officers' operations it takes the effective date and the suspension end as given (the file
    states them); the transition is still checked, under the lock, against the status the public sees on
    that day (a certificate entered with its history is checked as it stood then, not as its dates make it
    look today). Storing the status the public already sees by the dates (an overdue suspension decided by
    the source register) is allowed, as the tick persists it; a status after an on-read revocation is not.
    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    require_deciding_role(actor)
    target = CertificateStatus(status)
    if target not in STATUS_ACTIONS:
        raise InvalidTransition(_("This status is never stored; it follows from the dates."))
    reason = reason if isinstance(reason, LedgerMessage) else (reason or "").strip()
    today = clock.today()
    day = effective_on or today
    lock_certificates(certificate)
    on = min(day, today)
    if not (certificate.effective_status(on) is target and certificate.status != target.value):
        _check_transition(certificate, STATUS_ACTIONS[target], on)
    if target is CertificateStatus.SUSPENDED and (until is None or until < day):
        raise ValidationError(_("A suspension needs an end date after it starts."), fields={"until": str(until or "")})
    if message is None and target is CertificateStatus.SUSPENDED:
        message = LedgerMessage(N_("Suspended until %(day)s."), day=until)
    elif message is None and target is CertificateStatus.VALID:
        message = LedgerMessage(N_("Restored."))
    certificate.status = target.value
    certificate.status_reason = _status_reason_text(reason) if target is not CertificateStatus.VALID else ""
    certificate.status_changed_on = day
    certificate.suspended_until = until if target is CertificateStatus.SUSPENDED else None
    return record_event(certificate, STATUS_KINDS[target], actor_role=actor.role, reason=reason, message=message,
                        effective_on=day, extra=extra)


# --- issue, audits, renewal ------------------------------------------------------------------------

def issue(certificate: Certificate, *, actor, reason, kind: str = "issued", effective_on: dt.date | None = None,
          message: LedgerMessage | None = None, extra: dict | None = None) -> LedgerEntry:
    """Enter a new certificate (built by the caller, not yet added) and its first ledger entry.

    The ledger lock is taken before the row is inserted (callers computing a fresh number take it earlier
    with lock_head, so two issuers never compute the same number).
    Raises:
        PermissionDenied
    """
    require_deciding_role(actor)
    lock_head()
    db.session.add(certificate)
    db.session.flush()
    return record_event(certificate, kind, actor_role=actor.role, reason=reason, message=message,
                        effective_on=effective_on or certificate.issued_on, extra=extra)


def _lift_overdue(certificate: Certificate, today: dt.date) -> bool:
    """A passing audit lifts the automatic suspension for overdue surveillance, never a sanction."""
    if is_overdue_suspension(certificate):
        certificate.status = CertificateStatus.VALID.value
        certificate.suspended_until = None
        certificate.status_reason = ""
        certificate.status_changed_on = today
        return True
    return False


def begin_audit(certificate: Certificate, action: LifecycleAction, *, actor, refuse_sanctioned: bool = False) -> None:
    """Lock and check before an audit on an existing certificate is scored and stored.

    Raises:
        PermissionDenied, InvalidTransition
    """
    require_deciding_role(actor)
    lock_certificates(certificate)
    if refuse_sanctioned and certificate.status == CertificateStatus.SUSPENDED.value and not is_overdue_suspension(certificate):
        raise InvalidTransition(_("This certificate is suspended by a decision of the body; restore it first."))
    _check_transition(certificate, action, clock.today())


def record_audit(certificate: Certificate, *, actor, reason, passed: bool, score: Decimal | None,
                 message: LedgerMessage, surveillance_on: dt.date | None = None, extra: dict | None = None,
                 restored_message: LedgerMessage | None = None) -> tuple[LedgerEntry, bool]:
    """Record an audit's result ("audit_recorded"). A passed one updates the score; a passed surveillance
    audit (`surveillance_on`) also moves the next due date and lifts an overdue-surveillance suspension,
    with a "restored" entry when the public status goes back to valid. Returns (entry, restored).
    Call begin_audit first (it takes the locks).
    """
    require_deciding_role(actor)
    lock_certificates(certificate)
    today = clock.today()
    was = certificate.effective_status(today)
    if passed:
        if score is not None:
            certificate.score = score
        if surveillance_on is not None:
            certificate.last_surveillance_on = surveillance_on
            certificate.surveillance_count = (certificate.surveillance_count or 0) + 1
            _lift_overdue(certificate, today)
    entry = record_event(certificate, "audit_recorded", actor_role=actor.role, reason=reason, effective_on=today,
                         message=message, extra=extra)
    restored = (passed and surveillance_on is not None and was is CertificateStatus.SUSPENDED
                and certificate.effective_status(today) is CertificateStatus.VALID)
    if restored:
        record_event(certificate, "restored", actor_role=actor.role, reason=reason,
                     message=restored_message or LedgerMessage(N_("Restored: the overdue surveillance audit has been passed.")))
    return entry, restored


def renew_certificate(certificate: Certificate, *, actor, reason, issued_on: dt.date, expires_on: dt.date,
                      score: Decimal | None, message: LedgerMessage, extra: dict | None = None) -> tuple[LedgerEntry, bool]:
    """A new validity period (recertification), same number; lifts an overdue-surveillance suspension.

    Returns (entry, restored). Raises: PermissionDenied, InvalidTransition.
    """
    require_deciding_role(actor)
    lock_certificates(certificate)
    today = clock.today()
    _check_transition(certificate, LifecycleAction.RECERTIFY, today)
    restored = _lift_overdue(certificate, today)
    certificate.issued_on = issued_on
    certificate.expires_on = expires_on
    certificate.last_surveillance_on = None  # a new cycle: the next surveillance is due a year from issued_on
    certificate.recertification_count = (certificate.recertification_count or 0) + 1
    if score is not None:
        certificate.score = score
    entry = record_event(certificate, "renewed", actor_role=actor.role, reason=reason, effective_on=today,
                         message=message, extra={"recertification_count": certificate.recertification_count,
                                                 **(extra or {})})
    return entry, restored


def update_details(certificate: Certificate, *, actor, reason, changes: dict, message: LedgerMessage,
                   extra: dict | None = None) -> LedgerEntry:
    """Change descriptive fields (scope, service sites…) of a certificate in force; "updated" entry.

    `changes` maps field name to new value; status, level, validity and surveillance fields are refused
    here (they have their own operations). Raises: PermissionDenied, InvalidTransition.
    """
    require_deciding_role(actor)
    forbidden = set(changes) & {"status", "level", "issued_on", "expires_on", "suspended_until",
                                "last_surveillance_on", "status_changed_on", "number", "scheme_id"}
    if forbidden:
        raise ValueError(f"update_details cannot change {sorted(forbidden)}")
    lock_certificates(certificate)
    if certificate.effective_status(clock.today()) in rules.TERMINAL_STATUSES:
        raise InvalidTransition(_("This certificate is no longer in force; its details cannot be changed."))
    for name, value in changes.items():
        setattr(certificate, name, value)
    return record_event(certificate, "updated", actor_role=actor.role, reason=reason, message=message, extra=extra)


DESCRIPTIVE_FIELDS = frozenset({"scope", "service_sites"})
# The dated facts of a certificate's record that its source register states (validity, surveillance, the
# date and end of its stored status) and the score behind its level.
RECORD_FIELDS = frozenset({"score", "issued_on", "expires_on", "first_issued_on", "last_surveillance_on",
                           "recertification_count", "status_reason", "status_changed_on", "suspended_until"})


def sync_record(certificate: Certificate, *, actor, reason="", changes: dict, message: LedgerMessage,
                extra: dict | None = None) -> LedgerEntry:
    """The importer's correction of a certificate's record to its source register; one "updated" entry.

    `changes` maps field name to new value: descriptive fields, and the dated facts (RECORD_FIELDS) that no
    back-office operation sets from a file. Status and level are refused (apply_status, change_level). Dated
    facts of a certificate no longer in force (as the public sees it today) cannot change, and the record
    they leave must hold together (validity, surveillance, status date and suspension end).
    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    require_deciding_role(actor)
    if actor.role not in IMPORT_ROLES:
        raise PermissionDenied(_("Only the certification body's officers may change a certificate."))
    unknown = set(changes) - DESCRIPTIVE_FIELDS - RECORD_FIELDS
    if unknown:
        raise ValueError(f"sync_record cannot change {sorted(unknown)}")
    lock_certificates(certificate)
    today = clock.today()
    dated = set(changes) & RECORD_FIELDS
    if dated and certificate.effective_status(today) in rules.TERMINAL_STATUSES:
        raise InvalidTransition(_("This certificate is no longer in force; its details cannot be changed."))
    after = {name: changes.get(name, getattr(certificate, name)) for name in RECORD_FIELDS}
    _check_record(after, certificate.status, today, set(changes))
    for name, value in changes.items():
        setattr(certificate, name, value)
    return record_event(certificate, "updated", actor_role=actor.role, reason=reason, message=message, extra=extra)


def _check_record(record: dict, status: str, today: dt.date, changed_fields: set[str]) -> None:
    """The dated facts of one certificate agree with each other and with its stored status."""
    issued, expires, first = record["issued_on"], record["expires_on"], record["first_issued_on"]
    surveillance, changed, until = record["last_surveillance_on"], record["status_changed_on"], record["suspended_until"]
    suspended = status == CertificateStatus.SUSPENDED.value
    checks = (  # (column reported, the columns the rule relates, broken?)
        ("expires_on", {"issued_on", "expires_on"}, expires <= issued),
        ("first_issued_on", {"first_issued_on", "issued_on"}, first is not None and first > issued),
        ("last_surveillance_on", {"last_surveillance_on", "issued_on", "expires_on"},
         surveillance is not None and not issued <= surveillance <= min(expires, today)),
        ("status_changed_on", {"status_changed_on"}, changed is not None and changed > today),
        ("suspended_until", {"suspended_until", "status_changed_on"},
         (until is None) == suspended or (suspended and changed is not None and until <= changed)),
        ("recertification_count", {"recertification_count"}, (record["recertification_count"] or 0) < 0),
    )
    # Only the rules a change touches: an old record's other oddities do not block a correction.
    wrong = [name for name, related, bad in checks if bad and related & changed_fields]
    if wrong:
        raise ValidationError(_("These dates of the certificate do not agree with each other: %(fields)s.",
                                fields=", ".join(wrong)), fields={name: _("Check this date.") for name in wrong})


# --- the registry's own, date-driven transitions (the daily tick) ----------------------------------

def expire(certificate: Certificate, today: dt.date) -> LedgerEntry | None:
    """Record "expired" (effective the day after expires_on) once; None if it does not apply (any more)."""
    lock_certificates(certificate)
    if certificate.effective_status(today) is not CertificateStatus.EXPIRED:
        return None
    if db.session.scalar(select(LedgerEntry.seq).where(LedgerEntry.certificate_number == certificate.number,
                                                       LedgerEntry.kind == "expired").limit(1)) is not None:
        return None
    return record_event(certificate, "expired", actor_role=SYSTEM.role, effective_on=certificate.expires_on + ONE_DAY,
                        status_after=CertificateStatus.EXPIRED.value,
                        message=LedgerMessage(N_("Validity ended on %(day)s without renewal."),
                                              day=certificate.expires_on))


def suspend_overdue(certificate: Certificate, today: dt.date) -> LedgerEntry | None:
    """Persist the suspension for overdue surveillance, dated the day the rule made it so; None if not due."""
    lock_certificates(certificate)
    policy = status_policy()
    # After expiry the rule says suspended never, revoked only if the revocation fell on or before expiry.
    if (certificate.status != CertificateStatus.VALID.value
            or certificate.effective_status(today) not in (CertificateStatus.SUSPENDED, CertificateStatus.REVOKED)):
        return None
    due = certificate.surveillance_due
    effective_on = rules.overdue_suspension_start(due, policy.surveillance_grace_days)
    reason = LedgerMessage(N_("The surveillance audit due on %(day)s has not been carried out."), day=due)
    certificate.status = CertificateStatus.SUSPENDED.value
    certificate.suspended_until = rules.overdue_suspension_end(due, policy.surveillance_grace_days,
                                                               policy.max_suspension_months)
    certificate.status_reason = legal_text(reason)
    certificate.status_changed_on = effective_on
    return record_event(certificate, "suspended", actor_role=SYSTEM.role, reason=reason, message=reason,
                        effective_on=effective_on, extra={"cause": OVERDUE_CAUSE, "surveillance_due_on": due.isoformat()})


def revoke_ended_suspension(certificate: Certificate, today: dt.date) -> LedgerEntry | None:
    """Persist the revocation of a suspension that ran out, effective the day after its end; None if not due."""
    lock_certificates(certificate)
    if (certificate.status != CertificateStatus.SUSPENDED.value or certificate.suspended_until is None
            or certificate.effective_status(today) is not CertificateStatus.REVOKED):
        return None
    ended = certificate.suspended_until
    effective_on = ended + ONE_DAY
    reason = LedgerMessage(N_("The suspension ended on %(day)s without the certificate being restored."), day=ended)
    certificate.status = CertificateStatus.REVOKED.value
    certificate.status_reason = legal_text(reason)
    certificate.status_changed_on = effective_on
    return record_event(certificate, "revoked", actor_role=SYSTEM.role, reason=reason, message=reason,
                        effective_on=effective_on, extra={"cause": "suspension_ended", "suspended_until": ended.isoformat()})


# --- sanctions and appeals ---
# Added by the sanctions work (issue 10 item 3). Same shape as the operations above: role, locks, state
# under them, transition, row, ledger entry. A suspension with no end date (suspended_until None) never
# runs out into revocation under rules.effective_status, so holding a suspension open for a pending
# decision needs no change to the status rule: the decision that closes the hold sets an end date again.

def suspend_provisionally(certificate: Certificate, *, reason, actor, message: LedgerMessage,
                          extra: dict | None = None) -> LedgerEntry:
    """Suspend at once, with no end date, until the decision on a sanction proposal (an officer's explicit
    decision during the company's hearing window). The ledger entry says it is provisional.

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    reason, today, _status = _decide(certificate, actor, reason, LifecycleAction.SUSPEND)
    certificate.status = CertificateStatus.SUSPENDED.value
    certificate.suspended_until = None
    certificate.status_reason = _status_reason_text(reason)
    certificate.status_changed_on = today
    return record_event(certificate, "suspended", actor_role=actor.role, reason=reason, message=message,
                        extra={"provisional": True, **(extra or {})})


def set_suspension_end(certificate: Certificate, *, until: dt.date | None, reason, actor, message: LedgerMessage,
                       extra: dict | None = None) -> LedgerEntry:
    """Change when a decided suspension ends: None holds it open (an appeal is pending), a date after today
    lets it run to that day (a provisional suspension confirmed, an appeal dismissed).

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    require_deciding_role(actor)
    reason = _reason(reason)
    today = clock.today()
    if until is not None and until <= today:
        raise ValidationError(_("The suspension must end after today."), fields={"until": until.isoformat()})
    lock_certificates(certificate)
    if (certificate.status != CertificateStatus.SUSPENDED.value
            or certificate.effective_status(today) is not CertificateStatus.SUSPENDED):
        raise InvalidTransition(_("This certificate is not suspended; its suspension cannot be changed."))
    certificate.suspended_until = until
    certificate.status_reason = _status_reason_text(reason)
    return record_event(certificate, "suspension_changed", actor_role=actor.role, reason=reason, message=message,
                        extra={"suspended_until": until.isoformat() if until else None, **(extra or {})})


def lift_suspension(certificate: Certificate, *, reason, actor, message: LedgerMessage,
                    extra: dict | None = None) -> LedgerEntry:
    """Lift a decided suspension with the decision's own public note (a rejected proposal, an upheld appeal).

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    return restore_certificate(certificate, reason=reason, actor=actor, message=message, extra=extra)
