"""Scoring, thresholds, rounding, effective status and default expiry: pure rules, table-tested."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from registry.certificates.rules import (
    CertificateStatus,
    IndicatorScore,
    ScoringError,
    StatusPolicy,
    cut_to_cents,
    default_expiry,
    effective_status,
    judge,
    overdue_revocation_cutoff,
    score_from_totals,
    score_sheet,
    surveillance_due_on,
)
from registry.schemes import get_scheme

GBT = get_scheme("gbt27922-2011")
SAT = get_scheme("satisfaction-1000")
D = Decimal


@pytest.mark.parametrize(("earned", "applicable", "deductions", "bonus", "score", "level", "reason"), [
    # thresholds are inclusive
    ("80", "100", 0, 0, "80.00", "3", "passed"),
    ("79.99", "100", 0, 0, "79.99", "compliant", "passed"),
    ("90", "100", 0, 0, "90.00", "4", "passed"),
    ("95", "100", 0, 0, "95.00", "5", "passed"),
    ("70", "100", 0, 0, "70.00", "compliant", "passed"),
    ("69.99", "100", 0, 0, "69.99", None, "below_threshold"),
    # rounding cuts toward zero to two decimals before the thresholds are compared
    ("79.999", "100", 0, 0, "79.99", "compliant", "passed"),
    ("94.999", "100", 0, 0, "94.99", "4", "passed"),
    ("200", "300", 0, 0, "66.66", None, "below_threshold"),
    # exclusions: earned ÷ applicable maximum × 100
    ("72", "90", 0, 0, "80.00", "3", "passed"),
    ("63", "90", 0, 0, "70.00", "compliant", "passed"),
    # special deductions: −1 each, outside the item score
    ("91", "100", 1, 0, "90.00", "4", "passed"),
    ("91", "100", 2, 0, "89.00", "3", "passed"),
    ("100", "100", 4, 0, "96.00", "5", "passed"),
    ("71", "100", 2, 0, "69.00", None, "below_threshold"),
    # five or more special deductions fail whatever the score
    ("100", "100", 5, 0, "95.00", None, "too_many_special_deductions"),
    ("100", "100", 7, 0, "93.00", None, "too_many_special_deductions"),
    # bonus at most +1
    ("94.5", "100", 0, 1, "95.50", "5", "passed"),
    ("94.5", "100", 0, 3, "95.50", "5", "passed"),
    ("79.5", "100", 0, "0.5", "80.00", "3", "passed"),
    ("69.5", "100", 0, 1, "70.50", "compliant", "passed"),
    # never above the scale
    ("100", "100", 0, 1, "100.00", "5", "passed"),
])
def test_gbt27922_scores_and_levels(earned, applicable, deductions, bonus, score, level, reason):
    result = score_from_totals(GBT, D(earned), D(applicable), deductions, D(bonus))
    assert (result.score, result.level.id if result.level else None, result.reason) == (D(score), level, reason)
    assert result.passed is (reason == "passed")


@pytest.mark.parametrize(("earned", "deductions", "bonus", "score", "level"), [
    ("800", 0, 0, "800.00", "7"),
    ("799.99", 0, 0, "799.99", None),
    ("799.999", 0, 0, "799.99", None),
    ("850", 0, 0, "850.00", "8"),
    ("849.99", 0, 0, "849.99", "7"),
    ("900", 0, 0, "900.00", "9"),
    ("905", 1, 0, "895.00", "8"),      # −10 per special deduction on this scale
    ("895", 0, 25, "905.00", "9"),     # bonus capped at +10
    ("1000", 5, 0, "950.00", None),    # five special deductions fail
    ("1000", 0, 10, "1000.00", "9"),
])
def test_thousand_point_scheme_scores_and_levels(earned, deductions, bonus, score, level):
    result = score_from_totals(SAT, D(earned), D(1000), deductions, D(bonus))
    assert (result.score, result.level.id if result.level else None) == (D(score), level)


def full_sheet(scheme, **changes) -> list[IndicatorScore]:
    """Full marks on every indicator; changes map indicator id → earned points or "excluded"."""
    sheet = []
    for indicator in scheme.indicators:
        change = changes.get(indicator.id)
        if change == "excluded":
            sheet.append(IndicatorScore(indicator.id, D(0), indicator.max_points, excluded=True))
        else:
            earned = indicator.max_points if change is None else D(change)
            sheet.append(IndicatorScore(indicator.id, earned, indicator.max_points))
    return sheet


def test_full_marks_are_five_stars():
    result = score_sheet(GBT, full_sheet(GBT))
    assert result.score == D("100.00") and result.level.id == "5"


def test_excluded_indicator_counts_in_neither_earned_nor_maximum():
    # recycling (4) excluded, repair 0 of 7: 89 ÷ 96 × 100 = 92.708… → 92.70
    result = score_sheet(GBT, full_sheet(GBT, recycling="excluded", repair=0))
    assert result.applicable_maximum == D(96) and result.earned == D(89)
    assert result.score == D("92.70") and result.level.id == "4"


def test_sheet_with_special_deductions_and_bonus():
    result = score_sheet(GBT, full_sheet(GBT, repair=0, delivery=3), special_deductions=1, bonus=2)
    # 90 − 1 + 1 (bonus capped) = 90.00
    assert result.score == D("90.00") and result.level.id == "4"


@pytest.mark.parametrize(("sheet", "message"), [
    (lambda: full_sheet(GBT)[:-1], "missing"),
    (lambda: full_sheet(GBT) + [IndicatorScore("nonsense", D(1), D(1))], "unknown indicator"),
    (lambda: full_sheet(GBT) + [full_sheet(GBT)[0]], "twice"),
    (lambda: full_sheet(GBT, repair=8), "between 0 and"),
    (lambda: full_sheet(GBT, repair=-1), "between 0 and"),
    (lambda: [IndicatorScore(i.id, D(0), i.max_points, excluded=True) for i in GBT.indicators], "every indicator"),
])
def test_sheets_that_cannot_be_scored_say_why(sheet, message):
    with pytest.raises(ScoringError, match=message):
        score_sheet(GBT, sheet())


def test_judge_cuts_the_final_score_too():
    assert judge(GBT, D("89.999")).level.id == "3"
    assert cut_to_cents(D("-0.005")) == D("0.00")


TODAY = dt.date(2026, 6, 1)


@pytest.mark.parametrize(("stored", "expires_on", "expected"), [
    ("valid", dt.date(2027, 1, 1), "valid"),
    ("valid", TODAY, "valid"),                        # the expiry day itself is still valid
    ("valid", dt.date(2026, 5, 31), "expired"),
    ("suspended", dt.date(2027, 1, 1), "suspended"),
    ("suspended", dt.date(2026, 5, 31), "expired"),
    ("revoked", dt.date(2026, 5, 31), "revoked"),    # revoked and withdrawn stay what they are
    ("withdrawn", dt.date(2020, 1, 1), "withdrawn"),
    ("revoked", dt.date(2030, 1, 1), "revoked"),
])
def test_effective_status(stored, expires_on, expected):
    assert effective_status(stored, expires_on, TODAY) is CertificateStatus(expected)


def test_unknown_stored_status_is_refused():
    with pytest.raises(ValueError):
        effective_status("expired-ish", TODAY, TODAY)


@pytest.mark.parametrize(("issued_on", "expires_on"), [
    (dt.date(2024, 3, 1), dt.date(2027, 2, 28)),
    (dt.date(2025, 3, 1), dt.date(2028, 2, 29)),   # ends in a leap year
    (dt.date(2024, 2, 28), dt.date(2027, 2, 27)),
    (dt.date(2024, 2, 29), dt.date(2027, 2, 28)),  # 29 February runs to the end of February
    (dt.date(2024, 1, 1), dt.date(2026, 12, 31)),
    (dt.date(2025, 12, 31), dt.date(2028, 12, 30)),
])
def test_default_expiry_is_issue_plus_validity_minus_one_day(issued_on, expires_on):
    assert default_expiry(GBT, issued_on) == expires_on


def test_surveillance_due_twelve_months_after_the_last_audit_clamped_to_month_end():
    assert surveillance_due_on(dt.date(2025, 6, 1), 12) == dt.date(2026, 6, 1)
    assert surveillance_due_on(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)


# ---- overdue surveillance: suspended, then revoked when the maximum suspension has run out


@pytest.mark.parametrize("today, grace, expected", [
    (dt.date(2026, 3, 1), 0, "valid"),        # the due day itself
    (dt.date(2026, 3, 2), 0, "suspended"),    # first overdue day
    (dt.date(2026, 3, 10), 14, "valid"),      # inside the grace
    (dt.date(2026, 9, 2), 0, "suspended"),    # last day of the 6-month suspension (from 2026-03-02)
    (dt.date(2026, 9, 3), 0, "revoked"),      # the day after
    (dt.date(2026, 9, 17), 14, "revoked"),    # grace shifts the whole window
    (dt.date(2026, 9, 16), 14, "suspended"),
])
def test_overdue_surveillance_suspends_then_revokes(today, grace, expected):
    policy = StatusPolicy(surveillance_grace_days=grace, max_suspension_months=6)
    status = effective_status("valid", dt.date(2028, 1, 1), today, surveillance_due_on=dt.date(2026, 3, 1), policy=policy)
    assert status.value == expected


@pytest.mark.parametrize("grace", [0, 3, 30])
@pytest.mark.parametrize("today", [dt.date(2026, 3, 31), dt.date(2026, 8, 29), dt.date(2026, 8, 31),
                                    dt.date(2027, 2, 28), dt.date(2028, 2, 29)])
def test_sql_cutoff_agrees_with_the_rule_for_every_due_date_around_it(today, grace):
    """The SQL filter uses the cut-off; it must split due dates exactly where the rule does."""
    policy = StatusPolicy(surveillance_grace_days=grace, max_suspension_months=6)
    cutoff = overdue_revocation_cutoff(today, grace, 6)
    for offset in range(-10, 11):
        due = cutoff + dt.timedelta(days=offset)
        revoked = effective_status("valid", dt.date(2030, 1, 1), today, surveillance_due_on=due, policy=policy).value == "revoked"
        assert revoked == (due < cutoff), (due, cutoff)
