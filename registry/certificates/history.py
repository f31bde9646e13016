"""Status and level on any past day, reconstructed from the certificate's ledger entries (pure part first).

Each entry carries the status and level after the event and a snapshot of the dates the status depends
on; the state on day D is the last entry in effect on D, judged by the same effective-status rule as today.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from registry.certificates.rules import DEFAULT_POLICY, CertificateStatus, StatusPolicy, effective_status


@dataclass(frozen=True)
class DayState:
    day: dt.date
    issued: bool                       # False: the certificate did not exist yet on that day
    status: CertificateStatus | None
    level: str | None
    scheme_id: str | None
    expires_on: dt.date | None
    entry_seq: int | None              # the ledger entry this state comes from (citable)


def _date(value) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def state_on(entries, day: dt.date, policy: StatusPolicy = DEFAULT_POLICY) -> DayState:
    """The state on `day` from entries (objects with effective_on, seq, status_after, level_after, scheme_id, data)."""
    in_effect = [e for e in entries if e.effective_on <= day and e.status_after]
    if not in_effect:
        return DayState(day, False, None, None, None, None, None)
    last = max(in_effect, key=lambda e: (e.effective_on, e.seq))
    snap = (last.data or {}).get("snapshot", {})
    expires_on = _date(snap.get("expires_on"))
    status = CertificateStatus(last.status_after)
    if expires_on is not None:
        status = effective_status(status, expires_on, day, suspended_until=_date(snap.get("suspended_until")),
                                  surveillance_due_on=_date(snap.get("surveillance_due_on")),
                                  policy=policy)
    return DayState(day, True, status, last.level_after, last.scheme_id, expires_on, last.seq)


def status_on(certificate, day: dt.date) -> DayState:
    """The certificate's state on `day`, from its ledger entries."""
    from registry.certificates.models import status_policy
    from registry.extensions import db
    from registry.ledger.models import LedgerEntry
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.certificate_number == certificate.number)).all()
    return state_on(entries, day, status_policy())
