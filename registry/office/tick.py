"""The daily tick: persist every date-driven transition, so the stored status and the ledger catch up with
what the public pages already show (they compute status from dates and never wait for this job).

For each certificate the tick persists exactly what rules.effective_status says today, dated the day the
rule made it so:
- past expires_on: an "expired" ledger entry, effective expires_on + 1 (expired is never stored);
- surveillance overdue beyond the grace: stored suspended until the policy's maximum suspension ends,
  "suspended", effective due date + grace + 1 (a surveillance audit lifts it);
- a suspension past its end date (including that one): stored revoked, "revoked", effective end + 1.
Running it twice on the same day changes nothing the second time; public status is the same before and after.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import exists, select

from registry.certificates.lifecycle import SYSTEM, record_event, snapshot
from registry.certificates.models import Certificate, status_policy
from registry.certificates.rules import CertificateStatus, overdue_suspension_end, overdue_suspension_start
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from registry.ledger.services import append_entry
from registry.office.services import OVERDUE_CAUSE
from registry.search.outbox import queue_certificate

ONE_DAY = dt.timedelta(days=1)


@dataclass
class TickSummary:
    today: dt.date
    expired: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    suspended: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return len(self.expired) + len(self.revoked) + len(self.suspended)


def _text(make):
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return make()


def run_tick(today: dt.date) -> TickSummary:
    """Persist the date-driven transitions in effect on `today` (idempotent). The caller commits.

    Candidates are read in full before any is changed: updating rows under an open SQLite cursor that
    orders or filters on the changed columns may skip or revisit rows.
    """
    summary = TickSummary(today)
    live = Certificate.status.in_([CertificateStatus.VALID.value, CertificateStatus.SUSPENDED.value])
    already_expired = exists().where(LedgerEntry.certificate_id == Certificate.id, LedgerEntry.kind == "expired")

    for certificate in db.session.scalars(select(Certificate).where(live, Certificate.expires_on < today, ~already_expired)
                                          .order_by(Certificate.expires_on, Certificate.id)).all():
        if certificate.effective_status(today) is not CertificateStatus.EXPIRED:
            continue
        append_entry(kind="expired", actor_role=SYSTEM.role, certificate=certificate,
                     effective_on=certificate.expires_on + ONE_DAY, status_after=CertificateStatus.EXPIRED.value,
                     level_after=certificate.level, data={"snapshot": snapshot(certificate)},
                     public_text=_text(lambda c=certificate: _("Validity ended on %(day)s without renewal.",
                                                               day=c.expires_on.isoformat())))
        queue_certificate(certificate.id)
        summary.expired.append(certificate.number)

    policy = status_policy()
    grace = dt.timedelta(days=policy.surveillance_grace_days)
    for certificate in db.session.scalars(
            select(Certificate).where(Certificate.status == CertificateStatus.VALID.value,
                                      Certificate.surveillance_due_on.is_not(None),
                                      Certificate.surveillance_due_on < today - grace,
                                      Certificate.expires_on >= today)
            .order_by(Certificate.surveillance_due_on, Certificate.id)).all():
        # Overdue long enough, the rule already says revoked: persist the suspension first (history stays
        # true), and the suspension-ended pass below turns it into the revocation.
        if certificate.effective_status(today) not in (CertificateStatus.SUSPENDED, CertificateStatus.REVOKED):
            continue
        due = certificate.surveillance_due
        effective_on = overdue_suspension_start(due, policy.surveillance_grace_days)
        reason = _text(lambda d=due: _("The surveillance audit due on %(day)s has not been carried out.",
                                       day=d.isoformat()))
        certificate.status = CertificateStatus.SUSPENDED.value
        certificate.suspended_until = overdue_suspension_end(due, policy.surveillance_grace_days,
                                                             policy.max_suspension_months)
        certificate.status_reason = reason
        certificate.status_changed_on = effective_on
        record_event(certificate, "suspended", actor_role=SYSTEM.role, reason=reason, effective_on=effective_on,
                     public_text=reason, extra={"cause": OVERDUE_CAUSE, "surveillance_due_on": due.isoformat()})
        summary.suspended.append(certificate.number)

    for certificate in db.session.scalars(
            select(Certificate).where(Certificate.status == CertificateStatus.SUSPENDED.value,
                                      Certificate.suspended_until.is_not(None), Certificate.suspended_until < today,
                                      Certificate.expires_on >= today)
            .order_by(Certificate.suspended_until, Certificate.id)).all():
        if certificate.effective_status(today) is not CertificateStatus.REVOKED:
            continue
        ended = certificate.suspended_until
        effective_on = ended + ONE_DAY
        reason = _text(lambda d=ended: _("The suspension ended on %(day)s without the certificate being restored.",
                                         day=d.isoformat()))
        certificate.status = CertificateStatus.REVOKED.value
        certificate.status_reason = reason
        certificate.status_changed_on = effective_on
        record_event(certificate, "revoked", actor_role=SYSTEM.role, reason=reason, effective_on=effective_on,
                     public_text=reason, extra={"cause": "suspension_ended", "suspended_until": ended.isoformat()})
        summary.revoked.append(certificate.number)

    return summary
