"""What the verification page says: the check code, the printed level against today's, the state on a date.

Pure functions first (table-tested), then the two that read the ledger.
"""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import select

from registry.certificates.history import DayState, state_on
from registry.certificates.identifiers import fold
from registry.certificates.rules import DEFAULT_POLICY, CertificateStatus, StatusPolicy, effective_status

EARLIEST_DAY = dt.date(1990, 1, 1)
LATEST_DAY = dt.date(2100, 12, 31)


class DateProblem(ValueError):
    """A date the user typed that we cannot use; `reason` is 'format' or 'range'."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_day(raw: str) -> dt.date:
    """A day from YYYY-MM-DD, also YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD and full-width digits."""
    text = (raw or "").strip()
    if not text or len(text) > 40:
        raise DateProblem("format")
    digits = fold(text)
    if len(digits) == 8 and digits.isdigit():
        try:
            day = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            raise DateProblem("format") from None
    else:
        raise DateProblem("format")
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise DateProblem("range")
    return day


class DayKind(enum.StrEnum):
    RECORDED = "recorded"          # reconstructed from the ledger
    BEFORE_ISSUE = "before_issue"  # the certificate did not exist yet
    UNRECORDED = "unrecorded"      # issued, but the registry's records begin later
    FUTURE = "future"              # a projection from today's facts, not knowledge


@dataclass(frozen=True)
class DayAnswer:
    day: dt.date
    kind: DayKind
    status: CertificateStatus | None
    level: str | None
    scheme_id: str | None
    entry_seq: int | None = None
    records_begin: dt.date | None = None


def answer_for_day(day: dt.date, today: dt.date, entries, *, first_issued_on: dt.date, current: dict,
                   policy: StatusPolicy = DEFAULT_POLICY) -> DayAnswer:
    """Status and level on `day` (entries: the certificate's ledger entries; current: today's stored facts).

    "Not issued yet" means before the FIRST issue: after a recertification `issued_on` is the start of the
    current cycle, and the days of earlier cycles are answered from their ledger entries.

    Past and today come from the ledger; the future is projected from the stored dates (expiry, end of a
    suspension, surveillance due) assuming nothing else happens, and is labelled as such.
    """
    if day > today:
        status = effective_status(current["status"], current["expires_on"], day,
                                  suspended_until=current.get("suspended_until"),
                                  surveillance_due_on=current.get("surveillance_due_on"),
                                  policy=policy)
        return DayAnswer(day, DayKind.FUTURE, status, current["level"], current["scheme_id"])
    if day < first_issued_on:
        return DayAnswer(day, DayKind.BEFORE_ISSUE, None, None, current["scheme_id"])
    state: DayState = state_on(entries, day, policy)
    if not state.issued:
        starts = [e.effective_on for e in entries if e.status_after]
        return DayAnswer(day, DayKind.UNRECORDED, None, None, current["scheme_id"],
                         records_begin=min(starts) if starts else None)
    return DayAnswer(day, DayKind.RECORDED, state.status, state.level, state.scheme_id, state.entry_seq)


def level_since(entries, level: str) -> dt.date | None:
    """The day the certificate last came to hold `level` (its latest change to it), from ledger entries."""
    since = None
    previous = None
    for entry in sorted((e for e in entries if e.level_after), key=lambda e: (e.effective_on, e.seq)):
        if entry.level_after == level and previous != level:
            since = entry.effective_on
        previous = entry.level_after
    return since


def certificate_entries(certificate) -> list:
    """The certificate's ledger entries (oldest first)."""
    from registry.extensions import db
    from registry.ledger.models import LedgerEntry
    return list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.certificate_number == certificate.number)
                                   .order_by(LedgerEntry.effective_on, LedgerEntry.seq)).all())


def current_facts(certificate) -> dict:
    return {"status": certificate.status, "expires_on": certificate.expires_on, "level": certificate.level,
            "scheme_id": certificate.scheme_id, "suspended_until": certificate.suspended_until,
            "surveillance_due_on": certificate.surveillance_due}
