"""Pure complaint rules: the state machine, PRC working-day deadlines, masking, and the sanction policy."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from registry.complaints import calendar
from registry.complaints.rules import (
    Action,
    ActorRole,
    ComplaintFacts,
    DeadlinePolicy,
    IllegalComplaintTransition,
    Outcome,
    PolicyError,
    SanctionAction,
    State,
    add_workdays,
    allowed_actions,
    complaint_weight,
    due_on,
    evaluate,
    is_overdue,
    lower_level_id,
    mask_mobile,
    mask_name,
    months_back,
    next_state,
    outcome_for,
    parse_policy,
    percent,
    response_on_time,
)

D = dt.date
C, CO, M = ActorRole.CONSUMER, ActorRole.COMPANY, ActorRole.MODERATOR


@pytest.mark.parametrize("state, action, role, after", [
    (State.SUBMITTED, Action.ACCEPT, M, State.ACCEPTED),
    (State.SUBMITTED, Action.REJECT, M, State.REJECTED),
    (State.SUBMITTED, Action.REQUEST_INFO, M, State.AWAITING_INFO),
    (State.AWAITING_INFO, Action.ADD_INFO, C, State.SUBMITTED),
    (State.ACCEPTED, Action.RESPOND, CO, State.RESPONDED),
    (State.RESPONDED, Action.CONSUMER_ACCEPT, C, State.CLOSED),
    (State.RESPONDED, Action.DISPUTE, C, State.DISPUTED),
    (State.DISPUTED, Action.MEDIATE, M, State.MEDIATION),
    (State.MEDIATION, Action.RESPOND, CO, State.MEDIATION),
    (State.MEDIATION, Action.CLOSE, M, State.CLOSED),
    (State.MEDIATION, Action.CONSUMER_ACCEPT, C, State.CLOSED),
    (State.ACCEPTED, Action.CLOSE, M, State.CLOSED),
    (State.SUBMITTED, Action.WITHDRAW, C, State.CLOSED),
    (State.MEDIATION, Action.WITHDRAW, C, State.CLOSED),
    (State.CLOSED, Action.REDACT, M, State.CLOSED),
])
def test_allowed_transitions_lead_to_the_expected_state(state, action, role, after):
    assert next_state(state, action, role) is after


@pytest.mark.parametrize("state, action, role", [
    (State.SUBMITTED, Action.RESPOND, CO),        # the company never sees an unaccepted complaint
    (State.SUBMITTED, Action.CLOSE, M),
    (State.ACCEPTED, Action.DISPUTE, C),          # nothing to dispute before an answer
    (State.RESPONDED, Action.MEDIATE, M),
    (State.REJECTED, Action.ACCEPT, M),           # terminal
    (State.CLOSED, Action.WITHDRAW, C),           # terminal
    (State.CLOSED, Action.CLOSE, M),              # closing twice is refused
])
def test_transitions_the_table_does_not_allow_are_refused(state, action, role):
    with pytest.raises(IllegalComplaintTransition) as error:
        next_state(state, action, role)
    assert error.value.wrong_role is False


@pytest.mark.parametrize("action, role", [
    (Action.ACCEPT, CO), (Action.ACCEPT, C), (Action.RESPOND, M), (Action.RESPOND, C),
    (Action.DISPUTE, CO), (Action.CLOSE, CO), (Action.WITHDRAW, M),
])
def test_each_action_belongs_to_its_role(action, role):
    with pytest.raises(IllegalComplaintTransition) as error:
        next_state(State.RESPONDED if action != Action.ACCEPT else State.SUBMITTED, action, role)
    assert error.value.wrong_role is True


def test_allowed_actions_drive_the_buttons_each_role_sees():
    assert set(allowed_actions(State.RESPONDED, C)) == {Action.CONSUMER_ACCEPT, Action.DISPUTE, Action.ADD_INFO,
                                                        Action.WITHDRAW}
    assert allowed_actions(State.SUBMITTED, CO) == []
    assert allowed_actions(State.REJECTED, C) == []


@pytest.mark.parametrize("action, chosen, outcome", [
    (Action.WITHDRAW, None, Outcome.WITHDRAWN), (Action.CONSUMER_ACCEPT, None, Outcome.RESOLVED),
    (Action.CLOSE, "upheld", Outcome.UPHELD), (Action.CLOSE, "not_upheld", Outcome.NOT_UPHELD),
])
def test_outcome_of_each_closing_action(action, chosen, outcome):
    assert outcome_for(action, chosen) is outcome


def test_a_moderator_close_needs_a_closing_outcome():
    with pytest.raises(ValueError):
        outcome_for(Action.CLOSE, "withdrawn")


# ------------------------------------------------------------ working days (2026 calendar)

@pytest.mark.parametrize("start, n, expected, why", [
    (D(2026, 2, 10), 7, D(2026, 2, 26), "11,12,13, make-up Sat 14, Spring Festival 15..23 off, then 24,25,26"),
    (D(2026, 2, 12), 2, D(2026, 2, 14), "Fri 2-13, then make-up Saturday 2-14"),
    (D(2026, 2, 13), 1, D(2026, 2, 14), "the make-up Saturday counts"),
    (D(2026, 2, 14), 1, D(2026, 2, 24), "nine days of holiday skipped"),
    (D(2026, 2, 26), 2, D(2026, 2, 28), "Fri 2-27, then make-up Saturday 2-28"),
    (D(2026, 6, 1), 10, D(2026, 6, 15), "ordinary fortnight, no holiday"),
    (D(2026, 9, 30), 1, D(2026, 10, 8), "National Day 10-1..10-7 off"),
    (D(2026, 6, 5), 0, D(2026, 6, 5), "zero days is the same day"),
])
def test_deadlines_count_prc_working_days_with_holidays_and_make_up_days(start, n, expected, why):
    assert add_workdays(start, n, calendar.is_workday) == expected, why


def test_a_year_the_calendar_does_not_know_falls_back_to_weekends_only_and_is_flagged():
    later = max(y for y in range(2026, 2100) if calendar.calendar_knows(y)) + 1
    monday = next(D(later, 1, d) for d in range(1, 8) if D(later, 1, d).weekday() == 0)
    assert calendar.is_estimated(monday) and not calendar.is_estimated(D(2026, 6, 1))
    assert add_workdays(monday, 5, calendar.is_workday) == monday + dt.timedelta(days=7)
    assert calendar.is_workday(monday) and not calendar.is_workday(monday + dt.timedelta(days=5))


POLICY = DeadlinePolicy()


@pytest.mark.parametrize("state, started, accepted, expected", [
    (State.SUBMITTED, D(2026, 6, 1), None, D(2026, 6, 10)),
    (State.ACCEPTED, D(2026, 6, 1), D(2026, 6, 2), D(2026, 6, 16)),
    (State.MEDIATION, D(2026, 6, 1), D(2026, 6, 2), add_workdays(D(2026, 6, 2), 45, calendar.is_workday)),
    (State.RESPONDED, D(2026, 6, 1), D(2026, 6, 2), None),
    (State.AWAITING_INFO, D(2026, 6, 1), None, None),
    (State.CLOSED, D(2026, 6, 1), D(2026, 6, 2), None),
])
def test_each_stage_has_its_deadline(state, started, accepted, expected):
    assert due_on(state, clock_started_on=started, accepted_on=accepted, policy=POLICY,
                  is_workday=calendar.is_workday) == expected


def test_overdue_starts_the_day_after_the_deadline_and_on_time_includes_it():
    assert not is_overdue(D(2026, 6, 10), D(2026, 6, 10)) and is_overdue(D(2026, 6, 10), D(2026, 6, 11))
    assert response_on_time(D(2026, 6, 10), D(2026, 6, 10)) and not response_on_time(D(2026, 6, 10), D(2026, 6, 11))


# ------------------------------------------------------------ masking

@pytest.mark.parametrize("name, masked", [("王小明", "王某某"), ("欧阳娜娜", "欧某某"), ("John Smith", "J***"), ("", "")])
def test_names_are_masked(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize("mobile, masked", [("13812345678", "138****5678"), ("+8613812345678", "138****5678"),
                                            ("138 1234 5678", "138****5678"), ("123", "****")])
def test_mobiles_keep_three_and_four_digits(mobile, masked):
    assert mask_mobile(mobile) == masked


@pytest.mark.parametrize("part, whole, expected", [(1, 3, 33), (0, 0, None), (5, 5, 100)])
def test_percent(part, whole, expected):
    assert percent(part, whole) == expected


def test_months_back_crosses_year_boundaries():
    assert months_back(D(2026, 6, 15), 11) == D(2025, 7, 1) and months_back(D(2026, 1, 31), 1) == D(2025, 12, 1)


# ------------------------------------------------------------ sanction policy

RULES = {
    "version": "t", "window_months": 12, "unanswered_multiplier": 2, "critical_action": "suspend",
    "suspension_months": 3, "severity_points": {"minor": 1, "major": 3, "critical": 10},
    "outcome_factor": {"upheld": 1, "partially_upheld": 0.5},
    "thresholds": [{"id": "audit", "points": 4, "action": "special_audit"},
                   {"id": "lower", "points": 8, "action": "lower_level"},
                   {"id": "suspend", "points": 14, "action": "suspend"}],
}
P = parse_policy(RULES)
TODAY = D(2026, 6, 1)


MAY_FIRST = D(2026, 5, 1)


def facts(i, outcome="upheld", severity="major", unanswered=False, closed_on=MAY_FIRST):
    return ComplaintFacts(i, closed_on, outcome, severity, unanswered)


@pytest.mark.parametrize("complaint, weight", [
    (facts(1), Decimal(3)), (facts(1, severity="minor"), Decimal(1)),
    (facts(1, outcome="partially_upheld"), Decimal("1.5")), (facts(1, unanswered=True), Decimal(6)),
    (facts(1, outcome="not_upheld"), Decimal(0)), (facts(1, outcome="resolved_by_company"), Decimal(0)),
    (facts(1, outcome="withdrawn"), Decimal(0)),
])
def test_weight_of_one_complaint(complaint, weight):
    assert complaint_weight(P, complaint) == weight


@pytest.mark.parametrize("complaints, action, rule", [
    ([], None, None),
    ([facts(1)], None, None),                                                     # 3 < 4
    ([facts(1), facts(2, severity="minor")], SanctionAction.SPECIAL_AUDIT, "audit"),  # 4
    ([facts(1), facts(2), facts(3)], SanctionAction.LOWER_LEVEL, "lower"),       # 9
    ([facts(1, unanswered=True), facts(2, unanswered=True), facts(3)], SanctionAction.SUSPEND, "suspend"),  # 15
    ([facts(1, severity="critical")], SanctionAction.SUSPEND, "critical"),
    # 成立的严重投诉 only: a partly upheld critical complaint counts its 5 points, nothing at once.
    ([facts(1, severity="critical", outcome="partially_upheld")], SanctionAction.SPECIAL_AUDIT, "audit"),
    ([facts(1, severity="critical", outcome="not_upheld")], None, None),         # critical but not upheld
    # Outside the 12-month window: closed 2025-06-01 no longer counts on 2026-06-01.
    ([facts(1, closed_on=D(2025, 6, 1)), facts(2), facts(3)], SanctionAction.SPECIAL_AUDIT, "audit"),
])
def test_evaluation_picks_the_highest_threshold_reached_in_the_window(complaints, action, rule):
    decision = evaluate(P, complaints, TODAY)
    if action is None:
        assert decision is None
    else:
        assert (decision.action, decision.rule_id) == (action, rule)


def test_decision_names_the_complaints_that_carry_weight():
    decision = evaluate(P, [facts(1), facts(2), facts(3), facts(4, outcome="not_upheld")], TODAY)
    assert decision.complaint_ids == (1, 2, 3) and decision.points == Decimal(9)


@pytest.mark.parametrize("broken", [
    {**RULES, "severity_points": {"minor": 1}},
    {**RULES, "thresholds": []},
    {**RULES, "thresholds": [{"id": "x", "points": 1, "action": "burn"}]},
    {k: v for k, v in RULES.items() if k != "window_months"},
])
def test_malformed_rules_are_refused(broken):
    with pytest.raises(PolicyError):
        parse_policy(broken)


@pytest.mark.parametrize("current, lower", [("5", "4"), ("4", "3"), ("3", "compliant"), ("compliant", None), ("x", None)])
def test_lower_level_is_one_step_down_the_ladder(current, lower):
    assert lower_level_id(["compliant", "3", "4", "5"], current) == lower


def test_the_published_rules_file_parses():
    import tomllib

    from registry.complaints.policy import DEFAULT_RULES
    policy = parse_policy(tomllib.loads(DEFAULT_RULES.read_text()))
    assert [t.action for t in policy.thresholds] == [SanctionAction.SPECIAL_AUDIT, SanctionAction.LOWER_LEVEL,
                                                     SanctionAction.SUSPEND]
