"""Lifecycle use cases: suspend, restore, revoke, withdraw, change level, and recording public events.

Every change goes through record_event, so each one leaves a ledger entry carrying a snapshot of the
certificate's dates (what `history.state_on` needs to answer "what was the status on day X") and an
outbox row for search. Services never commit; permissions are checked here, not only in templates.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _

from registry import clock
from registry.certificates import rules
from registry.certificates.models import Certificate
from registry.certificates.rules import CertificateStatus, IllegalTransition, LifecycleAction
from registry.errors import InvalidTransition, PermissionDenied, ValidationError
from registry.ledger.models import LedgerEntry
from registry.ledger.services import append_entry
from registry.search.outbox import queue_certificate

DECIDING_ROLES = frozenset({"admin", "officer", "system"})


@dataclass(frozen=True)
class SystemActor:
    """The registry itself acting by rule (the daily tick, imports): recorded as a role, never a person."""
    role: str = "system"

    def has_role(self, *roles) -> bool:
        return self.role in {str(r) for r in roles}


SYSTEM = SystemActor()


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


def record_event(certificate: Certificate, kind: str, *, actor_role: str, reason: str = "", public_text: str = "",
                 effective_on: dt.date | None = None, extra: dict | None = None) -> LedgerEntry:
    """Append a ledger entry for a change to `certificate` (after the change is applied) and queue search."""
    certificate.refresh_derived_dates()
    data = {"snapshot": snapshot(certificate), **(extra or {})}
    entry = append_entry(kind=kind, actor_role=actor_role, certificate=certificate,
                         effective_on=effective_on or clock.today(), status_after=certificate.status,
                         level_after=certificate.level, public_text=public_text, reason=reason, data=data)
    queue_certificate(certificate.id)
    return entry


def require_deciding_role(actor) -> None:
    """Certification decisions belong to officers and admins (and the registry's own rules)."""
    if actor is None or not actor.has_role(*DECIDING_ROLES):
        raise PermissionDenied(_("Only the certification body's officers may change a certificate."))


def require_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < 2:
        raise ValidationError(_("Give the reason for this action."), fields={"reason": _("A reason is required.")})
    return text


def _check_transition(certificate: Certificate, action: LifecycleAction, today: dt.date) -> CertificateStatus:
    try:
        return rules.next_status(certificate.effective_status(today), action)
    except IllegalTransition as error:
        raise InvalidTransition(_("This certificate is %(status)s; it cannot be changed this way.",
                                  status=_status_word(error.status))) from error


def _status_word(status: CertificateStatus) -> str:
    from registry.presenters import status_view
    return status_view(status).word


def suspend_certificate(certificate: Certificate, *, reason: str, until: dt.date, actor) -> LedgerEntry:
    """Suspend until a date at most MAX_SUSPENSION_MONTHS ahead; the mark may not be used meanwhile.

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    require_deciding_role(actor)
    reason = require_reason(reason)
    today = clock.today()
    _check_transition(certificate, LifecycleAction.SUSPEND, today)
    latest = rules.latest_suspension_end(today, current_app.config["MAX_SUSPENSION_MONTHS"])
    if until is None or until <= today or until > latest:
        raise ValidationError(_("The suspension must end after today and no later than %(day)s.", day=latest.isoformat()),
                              fields={"until": _("Choose a date up to %(day)s.", day=latest.isoformat())})
    certificate.status = CertificateStatus.SUSPENDED.value
    certificate.suspended_until = until
    certificate.status_reason = reason
    certificate.status_changed_on = today
    return record_event(certificate, "suspended", actor_role=actor.role, reason=reason,
                        public_text=_("Suspended until %(day)s.", day=until.isoformat()))


def restore_certificate(certificate: Certificate, *, reason: str, actor) -> LedgerEntry:
    """Lift a suspension.

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    require_deciding_role(actor)
    reason = require_reason(reason)
    today = clock.today()
    _check_transition(certificate, LifecycleAction.RESTORE, today)
    if certificate.status != CertificateStatus.SUSPENDED.value:
        # Suspended only because surveillance is overdue: only a surveillance audit lifts that.
        raise InvalidTransition(_("This certificate is suspended because its surveillance audit is overdue; record the surveillance audit instead."))
    certificate.status = CertificateStatus.VALID.value
    certificate.suspended_until = None
    certificate.status_reason = ""
    certificate.status_changed_on = today
    return record_event(certificate, "restored", actor_role=actor.role, reason=reason, public_text=_("Restored."))


def _end(certificate: Certificate, action: LifecycleAction, kind: str, *, reason: str, actor) -> LedgerEntry:
    require_deciding_role(actor)
    reason = require_reason(reason)
    today = clock.today()
    new_status = _check_transition(certificate, action, today)
    certificate.status = new_status.value
    certificate.status_reason = reason
    certificate.status_changed_on = today
    certificate.suspended_until = None
    return record_event(certificate, kind, actor_role=actor.role, reason=reason)


def revoke_certificate(certificate: Certificate, *, reason: str, actor) -> LedgerEntry:
    """Revoke (撤销): final.

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    return _end(certificate, LifecycleAction.REVOKE, "revoked", reason=reason, actor=actor)


def withdraw_certificate(certificate: Certificate, *, reason: str, actor) -> LedgerEntry:
    """Withdraw (注销), e.g. at the holder's request: final.

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    return _end(certificate, LifecycleAction.WITHDRAW, "withdrawn", reason=reason, actor=actor)


def change_level(certificate: Certificate, *, new_level: str, reason: str, actor, score: Decimal | None = None,
                 public_text: str = "", extra: dict | None = None) -> LedgerEntry:
    """Raise or lower the level within the certificate's scheme (surveillance regrade, special audit, sanction).

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    require_deciding_role(actor)
    reason = require_reason(reason)
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
                        extra={"level_before": old_level, **(extra or {})})


# --- sanctions and appeals ---
# Added by the sanctions work (issue 10 item 3). Same shape as the operations above: check the role and
# the transition, write the row, then its ledger entry. A suspension with no end date (suspended_until
# None) never runs out into revocation under rules.effective_status, so holding a suspension open needs
# no change to the status rule: the decision that closes the hold sets an end date again.

def suspend_provisionally(certificate: Certificate, *, reason: str, actor, public_text: str,
                          extra: dict | None = None) -> LedgerEntry:
    """Suspend at once, with no end date, until the decision on a sanction proposal (an officer's explicit
    decision during the company's hearing window). The ledger entry says it is provisional.

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    require_deciding_role(actor)
    reason = require_reason(reason)
    today = clock.today()
    _check_transition(certificate, LifecycleAction.SUSPEND, today)
    certificate.status = CertificateStatus.SUSPENDED.value
    certificate.suspended_until = None
    certificate.status_reason = reason
    certificate.status_changed_on = today
    return record_event(certificate, "suspended", actor_role=actor.role, reason=reason, public_text=public_text,
                        extra={"provisional": True, **(extra or {})})


def set_suspension_end(certificate: Certificate, *, until: dt.date | None, reason: str, actor, public_text: str,
                       extra: dict | None = None) -> LedgerEntry:
    """Change when a decided suspension ends: None holds it open (an appeal is pending, or a provisional
    suspension becomes the sanction's), a date after today lets it run to that day.

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    require_deciding_role(actor)
    reason = require_reason(reason)
    today = clock.today()
    if (certificate.status != CertificateStatus.SUSPENDED.value
            or certificate.effective_status(today) is not CertificateStatus.SUSPENDED):
        raise InvalidTransition(_("This certificate is not suspended; its suspension cannot be changed."))
    if until is not None and until <= today:
        raise ValidationError(_("The suspension must end after today."), fields={"until": until.isoformat()})
    certificate.suspended_until = until
    certificate.status_reason = reason
    return record_event(certificate, "suspension_changed", actor_role=actor.role, reason=reason,
                        public_text=public_text, extra={"suspended_until": until.isoformat() if until else None,
                                                        **(extra or {})})


def lift_suspension(certificate: Certificate, *, reason: str, actor, public_text: str,
                    extra: dict | None = None) -> LedgerEntry:
    """Lift a decided suspension with the decision's own public note (a rejected proposal, an upheld appeal).

    Raises:
        PermissionDenied, ValidationError, InvalidTransition
    """
    require_deciding_role(actor)
    reason = require_reason(reason)
    today = clock.today()
    _check_transition(certificate, LifecycleAction.RESTORE, today)
    if certificate.status != CertificateStatus.SUSPENDED.value:
        raise InvalidTransition(_("This certificate is not suspended by a decision; there is nothing to lift."))
    certificate.status = CertificateStatus.VALID.value
    certificate.suspended_until = None
    certificate.status_reason = ""
    certificate.status_changed_on = today
    return record_event(certificate, "restored", actor_role=actor.role, reason=reason, public_text=public_text,
                        extra=extra)
