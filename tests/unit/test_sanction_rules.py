"""Due-process rules for sanctions: hearing windows, appeal deadlines, held suspensions, supersession."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.complaints import calendar
from registry.complaints.rules import (
    HearingPolicy,
    LaterEntry,
    PolicyError,
    SanctionAction,
    appeal_decide_by,
    respond_by,
    resumed_suspension_end,
    superseding_entry,
)

D = dt.date
POLICY = HearingPolicy(response_workdays=5, critical_response_workdays=2, appeal_decide_workdays=10)


def test_a_critical_proposal_still_leaves_the_company_working_days_to_respond():
    # Monday 2026-06-01: two working days for a critical case, five otherwise; never the same day.
    assert respond_by(POLICY, D(2026, 6, 1), critical=True, is_workday=calendar.is_workday) == D(2026, 6, 3)
    assert respond_by(POLICY, D(2026, 6, 1), critical=False, is_workday=calendar.is_workday) == D(2026, 6, 8)


def test_the_appeal_deadline_counts_prc_working_days_across_a_holiday():
    # Lodged Friday 2026-09-25: the National Day week (10-01..10-08 off) does not count, the make-up days do.
    due = appeal_decide_by(POLICY, D(2026, 9, 25), calendar.is_workday)
    days = [D(2026, 9, 25) + dt.timedelta(days=i) for i in range(1, (due - D(2026, 9, 25)).days + 1)]
    assert sum(calendar.is_workday(d) for d in days) == 10 and calendar.is_workday(due)
    assert due > D(2026, 10, 8)


@pytest.mark.parametrize("values", [dict(critical_response_workdays=0), dict(response_workdays=0),
                                    dict(appeal_decide_workdays=0), dict(critical_response_workdays=9)])
def test_a_zero_or_inverted_window_is_refused(values):
    with pytest.raises(PolicyError):
        HearingPolicy(**{**dict(response_workdays=5, critical_response_workdays=2, appeal_decide_workdays=10), **values})


@given(day=st.dates(min_value=D(2005, 1, 1), max_value=D(2030, 12, 31)), normal=st.integers(1, 30),
       critical_share=st.integers(1, 30), critical=st.booleans())
def test_every_proposal_leaves_at_least_one_working_day_after_the_day_it_is_made(day, normal, critical_share, critical):
    policy = HearingPolicy(response_workdays=normal, critical_response_workdays=min(critical_share, normal),
                           appeal_decide_workdays=normal)
    due = respond_by(policy, day, critical=critical, is_workday=calendar.is_workday)
    assert due > day and calendar.is_workday(due)
    assert due <= respond_by(policy, day, critical=False, is_workday=calendar.is_workday)


def test_a_dismissed_appeal_resumes_the_suspension_for_the_days_it_had_left():
    assert resumed_suspension_end(D(2026, 9, 1), D(2026, 8, 22), D(2026, 10, 10)) == D(2026, 10, 20)


LATER_AUDIT = LaterEntry("level_changed", D(2026, 7, 1))
OWN_HOLD = LaterEntry("suspension_changed", D(2026, 7, 1), proposal_id=7)


@pytest.mark.parametrize("action, later, superseded", [
    (SanctionAction.LOWER_LEVEL, [LATER_AUDIT], True),                      # 三 → audit 97 → 五
    (SanctionAction.LOWER_LEVEL, [LaterEntry("suspended", D(2026, 7, 1))], False),   # a status decision only
    (SanctionAction.LOWER_LEVEL, [LaterEntry("audit_recorded", D(2026, 7, 1))], False),  # audit without regrade
    (SanctionAction.SUSPEND, [OWN_HOLD], False),                             # its own appeal hold
    (SanctionAction.SUSPEND, [LaterEntry("restored", D(2026, 7, 1))], True),
    (SanctionAction.SUSPEND, [LaterEntry("revoked", D(2026, 7, 1))], True),
    (SanctionAction.SUSPEND, [LaterEntry("level_changed", D(2026, 7, 1))], False),
    (SanctionAction.SPECIAL_AUDIT, [LaterEntry("audit_recorded", D(2026, 7, 1), audit_kind="special")], True),
    (SanctionAction.SPECIAL_AUDIT, [LaterEntry("audit_recorded", D(2026, 7, 1), audit_kind="surveillance")], False),
])
def test_a_later_decision_on_what_the_sanction_changed_supersedes_it(action, later, superseded):
    assert (superseding_entry(action, 7, later) is not None) is superseded
