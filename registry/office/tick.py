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

from sqlalchemy import exists, select

from registry.certificates import lifecycle
from registry.certificates.models import Certificate
from registry.certificates.rules import CertificateStatus
from registry.certificates.services import effective_status_expr
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from registry.ledger.services import lock_head

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


def _candidates(stmt) -> list[Certificate]:
    return list(db.session.scalars(stmt.execution_options(populate_existing=True)).all())


def run_tick(today: dt.date) -> TickSummary:
    """Persist the date-driven transitions in effect on `today` (idempotent). The caller commits.

    The ledger lock is taken first, before anything is read: a second tick running at the same time waits
    here until the first commits, then finds nothing left to do. Each transition is a lifecycle operation,
    which re-reads its certificate under the lock and does nothing when the transition no longer applies.
    Candidates are read in full before any is changed: updating rows under an open SQLite cursor that
    orders or filters on the changed columns may skip or revisit rows.
    """
    lock_head()
    summary = TickSummary(today)
    live = Certificate.status.in_([CertificateStatus.VALID.value, CertificateStatus.SUSPENDED.value])
    already_expired = exists().where(LedgerEntry.certificate_number == Certificate.number, LedgerEntry.kind == "expired")

    for certificate in _candidates(select(Certificate).where(live, Certificate.expires_on < today, ~already_expired)
                                   .order_by(Certificate.expires_on, Certificate.id)):
        if lifecycle.expire(certificate, today) is not None:
            summary.expired.append(certificate.number)

    # Candidates by the one status rule in its SQL form, so a revocation the rule made on or before the
    # expiry date is persisted even when the tick first sees it after that date (撤销 stays final).
    public = effective_status_expr(today)
    for certificate in _candidates(
            select(Certificate).where(Certificate.status == CertificateStatus.VALID.value,
                                      Certificate.surveillance_due_on.is_not(None),
                                      public.in_([CertificateStatus.SUSPENDED.value, CertificateStatus.REVOKED.value]))
            .order_by(Certificate.surveillance_due_on, Certificate.id)):
        # Overdue long enough, the rule already says revoked: persist the suspension first (history stays
        # true), and the suspension-ended pass below turns it into the revocation.
        if lifecycle.suspend_overdue(certificate, today) is not None:
            summary.suspended.append(certificate.number)

    for certificate in _candidates(
            select(Certificate).where(Certificate.status == CertificateStatus.SUSPENDED.value,
                                      Certificate.suspended_until.is_not(None),
                                      effective_status_expr(today) == CertificateStatus.REVOKED.value)
            .order_by(Certificate.suspended_until, Certificate.id)):
        if lifecycle.revoke_ended_suspension(certificate, today) is not None:
            summary.revoked.append(certificate.number)

    return summary
