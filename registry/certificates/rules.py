"""Pure rules for scores, levels and certificate status: no Flask, no database, table-tested.

Scoring (DOMAIN.md §1.2): score = earned ÷ applicable maximum × scale (excluded indicators count in
neither), minus the scheme's points per special deduction, plus a bonus capped at the scheme's maximum.
The audit fails below the lowest threshold or with the scheme's number of special deductions or more.

Rounding: the score is cut (rounded toward zero) to two decimals *before* it is compared with the
thresholds, and the result is clamped to [0, scale]. Cutting means a level is never reached by
rounding up: 79.999 is 79.99, which is 达标, not 三星. Thresholds are inclusive: 80.00 is 三星.
"""
from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from registry.schemes import Level, Scheme

TWO_PLACES = Decimal("0.01")


class CertificateStatus(enum.StrEnum):
    """Public statuses; `expired` is never stored, always computed from expires_on."""
    VALID = "valid"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


STORED_STATUSES = (CertificateStatus.VALID, CertificateStatus.SUSPENDED,
                   CertificateStatus.REVOKED, CertificateStatus.WITHDRAWN)
TERMINAL_STATUSES = frozenset({CertificateStatus.REVOKED, CertificateStatus.WITHDRAWN, CertificateStatus.EXPIRED})


class AuditKind(enum.StrEnum):
    INITIAL = "initial"
    SURVEILLANCE = "surveillance"
    RECERTIFICATION = "recertification"
    SPECIAL = "special"


class EnterpriseType(enum.StrEnum):
    PRODUCTION = "production"        # 生产型
    SALES_SERVICE = "sales_service"  # 销售服务型


@dataclass(frozen=True)
class IndicatorScore:
    indicator_id: str
    earned: Decimal
    maximum: Decimal
    excluded: bool = False


@dataclass(frozen=True)
class ScoreResult:
    score: Decimal
    level: Level | None
    passed: bool
    reason: str  # "passed", "below_threshold", "too_many_special_deductions"
    applicable_maximum: Decimal
    earned: Decimal


class ScoringError(ValueError):
    """A score sheet that cannot be scored (the message says which indicator and why)."""


def cut_to_cents(value: Decimal) -> Decimal:
    """Two decimals, rounded toward zero, so no level is ever reached by rounding up."""
    return value.quantize(TWO_PLACES, rounding=ROUND_DOWN)


def check_sheet(scheme: Scheme, sheet: Iterable[IndicatorScore]) -> list[IndicatorScore]:
    """Validate a score sheet against the scheme: every indicator once, 0 ≤ earned ≤ scheme maximum."""
    known = {ind.id: ind for ind in scheme.indicators}
    seen: dict[str, IndicatorScore] = {}
    for item in sheet:
        indicator = known.get(item.indicator_id)
        if indicator is None:
            raise ScoringError(f"unknown indicator '{item.indicator_id}'")
        if item.indicator_id in seen:
            raise ScoringError(f"indicator '{item.indicator_id}' appears twice")
        if item.maximum != indicator.max_points:
            raise ScoringError(f"indicator '{item.indicator_id}': maximum {item.maximum} is not the scheme's {indicator.max_points}")
        if not item.excluded and not (Decimal(0) <= item.earned <= item.maximum):
            raise ScoringError(f"indicator '{item.indicator_id}': earned points must be between 0 and {item.maximum}")
        seen[item.indicator_id] = item
    missing = [ind.id for ind in scheme.indicators if ind.id not in seen]
    if missing:
        raise ScoringError(f"indicators missing from the sheet: {', '.join(missing)}")
    return [seen[ind.id] for ind in scheme.indicators]


def score_sheet(scheme: Scheme, sheet: Iterable[IndicatorScore], special_deductions: int = 0,
                bonus: Decimal | int = 0) -> ScoreResult:
    """Score an audit sheet under the scheme and decide pass/fail and the level."""
    items = check_sheet(scheme, sheet)
    if special_deductions < 0:
        raise ScoringError("special deductions cannot be negative")
    bonus = Decimal(bonus)
    if bonus < 0:
        raise ScoringError("the bonus cannot be negative")
    applicable = sum((i.maximum for i in items if not i.excluded), Decimal(0))
    earned = sum((i.earned for i in items if not i.excluded), Decimal(0))
    if applicable == 0:
        raise ScoringError("every indicator is excluded: nothing to score")
    return score_from_totals(scheme, earned, applicable, special_deductions, bonus)


def score_from_totals(scheme: Scheme, earned: Decimal, applicable: Decimal, special_deductions: int = 0,
                      bonus: Decimal | int = 0) -> ScoreResult:
    """Score from totals only (for imports and audits recorded as a total)."""
    raw = Decimal(earned) / Decimal(applicable) * scheme.scale
    raw -= scheme.special_deduction_points * special_deductions
    raw += min(Decimal(bonus), scheme.bonus_max)
    score = min(max(cut_to_cents(raw), Decimal(0)), scheme.scale)
    return judge(scheme, score, special_deductions, Decimal(earned), Decimal(applicable))


def judge(scheme: Scheme, score: Decimal, special_deductions: int = 0,
          earned: Decimal | None = None, applicable: Decimal | None = None) -> ScoreResult:
    """Pass/fail and level for a final score."""
    score = cut_to_cents(Decimal(score))
    earned = score if earned is None else earned
    applicable = scheme.scale if applicable is None else applicable
    if special_deductions >= scheme.fail_at_special_deductions:
        return ScoreResult(score, None, False, "too_many_special_deductions", applicable, earned)
    level = scheme.level_for_score(score)
    if level is None:
        return ScoreResult(score, None, False, "below_threshold", applicable, earned)
    return ScoreResult(score, level, True, "passed", applicable, earned)


def default_expiry(scheme: Scheme, issued_on: dt.date) -> dt.date:
    """Issued + validity − 1 day: a certificate issued 2024-03-01 for 3 years ends 2027-02-28.

    One issued on 29 February runs to the end of February (issued 2024-02-29, ends 2027-02-28): a period
    whose end month has no matching day ends on that month's last day (民法典 第二百零三条), so the
    certificate is not one day short of its validity.
    """
    anniversary = add_years(issued_on, scheme.validity_years)
    if (issued_on.month, issued_on.day) == (2, 29) and anniversary.day == 28:
        return anniversary
    return anniversary - dt.timedelta(days=1)


def add_years(day: dt.date, years: int) -> dt.date:
    """Same month and day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day `months` later, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class StatusPolicy:
    """The certification body's date policy that public status depends on (shown on /policy)."""
    surveillance_grace_days: int = 0
    max_suspension_months: int = 6


DEFAULT_POLICY = StatusPolicy()


def effective_status(stored: CertificateStatus | str, expires_on: dt.date, today: dt.date,
                     suspended_until: dt.date | None = None, surveillance_due_on: dt.date | None = None,
                     policy: StatusPolicy = DEFAULT_POLICY) -> CertificateStatus:
    """What the public sees on `today`, from the stored status and dates alone (no job needs to have run).

    This is THE status rule: every page, filter, count, index, export and date replay calls it (or, for SQL,
    services.effective_status_expr, which is tested against it on a generated grid). See docs/lifecycle.md.

    - revoked and withdrawn are final;
    - a suspension whose end date has passed unresolved becomes a revocation;
    - a valid certificate whose surveillance is overdue (beyond the policy's grace days) is suspended, and
      once that suspension has lasted the policy's maximum without the audit, it is revoked;
    - such a revocation that fell on or before expires_on stays a revocation after it (撤销 is final,
      whether or not the daily tick has stored it);
    - otherwise, past expires_on, the certificate is expired.
    """
    stored = CertificateStatus(stored)
    if stored in (CertificateStatus.REVOKED, CertificateStatus.WITHDRAWN):
        return stored
    revoked_from = on_read_revocation_day(stored, suspended_until, surveillance_due_on, policy)
    if revoked_from is not None and revoked_from <= expires_on and today >= revoked_from:
        return CertificateStatus.REVOKED
    if today > expires_on:
        return CertificateStatus.EXPIRED
    if (stored is CertificateStatus.VALID and surveillance_due_on is not None
            and today >= overdue_suspension_start(surveillance_due_on, policy.surveillance_grace_days)):
        return CertificateStatus.SUSPENDED
    return stored


def on_read_revocation_day(stored: CertificateStatus | str, suspended_until: dt.date | None,
                           surveillance_due_on: dt.date | None,
                           policy: StatusPolicy = DEFAULT_POLICY) -> dt.date | None:
    """The first day the rule revokes a certificate if nothing else happens (None: never by itself).

    A stored suspension ends on suspended_until, so it is revoked the day after; a valid certificate whose
    surveillance is overdue is suspended from the day after the grace and revoked the day after that
    suspension's policy maximum.
    """
    stored = CertificateStatus(stored)
    if stored is CertificateStatus.SUSPENDED and suspended_until is not None:
        return suspended_until + dt.timedelta(days=1)
    if stored is CertificateStatus.VALID and surveillance_due_on is not None:
        return overdue_suspension_end(surveillance_due_on, policy.surveillance_grace_days,
                                      policy.max_suspension_months) + dt.timedelta(days=1)
    return None


def overdue_suspension_start(surveillance_due_on: dt.date, grace_days: int) -> dt.date:
    """The first day a certificate is suspended for an overdue surveillance audit."""
    return surveillance_due_on + dt.timedelta(days=grace_days + 1)


@functools.lru_cache(maxsize=8192)
def overdue_suspension_end(surveillance_due_on: dt.date, grace_days: int, max_months: int) -> dt.date:
    """The last day of that suspension; the day after, the certificate is revoked (DOMAIN.md §3).

    Cached: the search index asks the status rule for every document, and due dates repeat a lot."""
    return add_months(overdue_suspension_start(surveillance_due_on, grace_days), max_months)


def overdue_revocation_cutoff(today: dt.date, grace_days: int, max_months: int) -> dt.date:
    """The earliest surveillance due date NOT yet revoked on `today`: due dates before it are revoked.

    The inverse of overdue_suspension_end for SQL filters. add_months is monotone but clamps month ends,
    so the cut-off is found by checking the few days around the approximate inverse.
    """
    approx = add_months(today, -max_months) - dt.timedelta(days=grace_days + 1)
    day = approx - dt.timedelta(days=6)
    while today > overdue_suspension_end(day, grace_days, max_months):
        day += dt.timedelta(days=1)
    return day


class LifecycleAction(enum.StrEnum):
    SUSPEND = "suspend"
    RESTORE = "restore"
    REVOKE = "revoke"
    WITHDRAW = "withdraw"
    CHANGE_LEVEL = "change_level"
    SURVEILLANCE = "surveillance"
    RECERTIFY = "recertify"


class IllegalTransition(ValueError):
    """An action that the certificate's current status does not allow."""

    def __init__(self, status: CertificateStatus, action: LifecycleAction):
        super().__init__(f"cannot {action.value} a certificate that is {status.value}")
        self.status, self.action = status, action


# From each effective status, the actions allowed and the status they lead to.
TRANSITIONS: dict[CertificateStatus, dict[LifecycleAction, CertificateStatus]] = {
    CertificateStatus.VALID: {
        LifecycleAction.SUSPEND: CertificateStatus.SUSPENDED,
        LifecycleAction.REVOKE: CertificateStatus.REVOKED,
        LifecycleAction.WITHDRAW: CertificateStatus.WITHDRAWN,
        LifecycleAction.CHANGE_LEVEL: CertificateStatus.VALID,
        LifecycleAction.SURVEILLANCE: CertificateStatus.VALID,
        LifecycleAction.RECERTIFY: CertificateStatus.VALID,
    },
    CertificateStatus.SUSPENDED: {
        LifecycleAction.RESTORE: CertificateStatus.VALID,
        LifecycleAction.REVOKE: CertificateStatus.REVOKED,
        LifecycleAction.WITHDRAW: CertificateStatus.WITHDRAWN,
        LifecycleAction.CHANGE_LEVEL: CertificateStatus.SUSPENDED,
        # A surveillance audit that was overdue lifts the automatic suspension when it passes.
        LifecycleAction.SURVEILLANCE: CertificateStatus.VALID,
        LifecycleAction.RECERTIFY: CertificateStatus.VALID,
    },
    CertificateStatus.REVOKED: {},
    CertificateStatus.WITHDRAWN: {},
    CertificateStatus.EXPIRED: {},
}


def next_status(current: CertificateStatus | str, action: LifecycleAction | str) -> CertificateStatus:
    """The status after `action`, or IllegalTransition (revoked, withdrawn and expired are terminal)."""
    current, action = CertificateStatus(current), LifecycleAction(action)
    try:
        return TRANSITIONS[current][action]
    except KeyError:
        raise IllegalTransition(current, action) from None


def latest_suspension_end(start: dt.date, max_months: int) -> dt.date:
    """The last day a suspension may last by policy (default 6 months, DOMAIN.md §3)."""
    return add_months(start, max_months)


def surveillance_due_on(last_audit_on: dt.date, interval_months: int) -> dt.date:
    """The next surveillance is due `interval_months` after the last audit."""
    return add_months(last_audit_on, interval_months)
