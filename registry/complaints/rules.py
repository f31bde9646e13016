"""Pure complaint rules: the state machine, working-day deadlines, masking and the sanction policy.

No Flask, no database: every function takes plain data (and, for deadlines, a working-day predicate)
so the tables in tests/unit/test_complaint_rules.py can pin them down.
"""
from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal


class State(enum.StrEnum):
    SUBMITTED = "submitted"            # waiting for the certification body to accept or reject
    AWAITING_INFO = "awaiting_info"    # the body asked the consumer for more information
    ACCEPTED = "accepted"              # forwarded to the company, waiting for its response
    REJECTED = "rejected"              # terminal: not taken up, with a reason
    RESPONDED = "responded"            # the company answered; the consumer accepts or disputes
    DISPUTED = "disputed"              # the consumer disputes; waiting for mediation to start
    MEDIATION = "mediation"            # the body mediates
    CLOSED = "closed"                  # terminal, with an Outcome


class Action(enum.StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    REQUEST_INFO = "request_info"
    ADD_INFO = "add_info"
    RESPOND = "respond"
    CONSUMER_ACCEPT = "consumer_accept"
    DISPUTE = "dispute"
    MEDIATE = "mediate"
    CLOSE = "close"
    WITHDRAW = "withdraw"
    REDACT = "redact"


class Outcome(enum.StrEnum):
    RESOLVED = "resolved_by_company"
    UPHELD = "upheld"
    PARTIALLY_UPHELD = "partially_upheld"
    NOT_UPHELD = "not_upheld"
    WITHDRAWN = "withdrawn"


class Severity(enum.StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"   # safety or fraud: proposes immediate suspension


class ActorRole(enum.StrEnum):
    CONSUMER = "consumer"
    COMPANY = "company"
    MODERATOR = "moderator"
    SYSTEM = "system"


# Reasons for not taking a complaint up (DOMAIN.md §7: the SAMR rules' grounds, adapted to a CB).
REJECTION_REASONS = ("out_of_scope", "duplicate", "insufficient_information", "abusive", "not_after_sales",
                     "older_than_3_years")
CATEGORIES = ("delivery", "installation", "repair", "warranty_returns", "product_information",
              "complaint_handling", "service_attitude", "recycling", "other")
RESOLUTIONS = ("refund", "exchange", "repair", "compensation", "apology", "other")
CLOSING_OUTCOMES = (Outcome.RESOLVED, Outcome.UPHELD, Outcome.PARTIALLY_UPHELD, Outcome.NOT_UPHELD)
OPEN_STATES = frozenset({State.SUBMITTED, State.AWAITING_INFO, State.ACCEPTED, State.RESPONDED, State.DISPUTED,
                         State.MEDIATION})
TERMINAL_STATES = frozenset({State.REJECTED, State.CLOSED})
# States in which the company has the complaint (it never sees one the body has not accepted).
FORWARDED_STATES = frozenset({State.ACCEPTED, State.RESPONDED, State.DISPUTED, State.MEDIATION, State.CLOSED})

_ANY_OPEN = object()
# (state, action) -> state after. Actions missing from a state's row are refused.
TRANSITIONS: dict[State, dict[Action, State]] = {
    State.SUBMITTED: {Action.ACCEPT: State.ACCEPTED, Action.REJECT: State.REJECTED,
                      Action.REQUEST_INFO: State.AWAITING_INFO, Action.ADD_INFO: State.SUBMITTED,
                      Action.WITHDRAW: State.CLOSED, Action.REDACT: State.SUBMITTED},
    State.AWAITING_INFO: {Action.ADD_INFO: State.SUBMITTED, Action.ACCEPT: State.ACCEPTED,
                          Action.REJECT: State.REJECTED, Action.WITHDRAW: State.CLOSED,
                          Action.REDACT: State.AWAITING_INFO},
    State.ACCEPTED: {Action.RESPOND: State.RESPONDED, Action.ADD_INFO: State.ACCEPTED,
                     Action.REQUEST_INFO: State.ACCEPTED, Action.CLOSE: State.CLOSED,
                     Action.WITHDRAW: State.CLOSED, Action.REDACT: State.ACCEPTED},
    State.RESPONDED: {Action.CONSUMER_ACCEPT: State.CLOSED, Action.DISPUTE: State.DISPUTED,
                      Action.RESPOND: State.RESPONDED, Action.ADD_INFO: State.RESPONDED,
                      Action.REQUEST_INFO: State.RESPONDED, Action.CLOSE: State.CLOSED,
                      Action.WITHDRAW: State.CLOSED, Action.REDACT: State.RESPONDED},
    State.DISPUTED: {Action.MEDIATE: State.MEDIATION, Action.RESPOND: State.DISPUTED,
                     Action.ADD_INFO: State.DISPUTED, Action.REQUEST_INFO: State.DISPUTED,
                     Action.CLOSE: State.CLOSED, Action.WITHDRAW: State.CLOSED, Action.REDACT: State.DISPUTED},
    State.MEDIATION: {Action.RESPOND: State.MEDIATION, Action.ADD_INFO: State.MEDIATION,
                      Action.REQUEST_INFO: State.MEDIATION, Action.CONSUMER_ACCEPT: State.CLOSED,
                      Action.CLOSE: State.CLOSED, Action.WITHDRAW: State.CLOSED, Action.REDACT: State.MEDIATION},
    State.REJECTED: {},
    State.CLOSED: {Action.REDACT: State.CLOSED},
}

# Who may take each action (the body's staff act as "moderator"; admins count as moderators).
ACTION_ROLES: dict[Action, frozenset[ActorRole]] = {
    Action.ACCEPT: frozenset({ActorRole.MODERATOR}),
    Action.REJECT: frozenset({ActorRole.MODERATOR}),
    Action.REQUEST_INFO: frozenset({ActorRole.MODERATOR}),
    Action.MEDIATE: frozenset({ActorRole.MODERATOR}),
    Action.CLOSE: frozenset({ActorRole.MODERATOR}),
    Action.REDACT: frozenset({ActorRole.MODERATOR}),
    Action.ADD_INFO: frozenset({ActorRole.CONSUMER}),
    Action.CONSUMER_ACCEPT: frozenset({ActorRole.CONSUMER}),
    Action.DISPUTE: frozenset({ActorRole.CONSUMER}),
    Action.WITHDRAW: frozenset({ActorRole.CONSUMER}),
    Action.RESPOND: frozenset({ActorRole.COMPANY}),
}


class IllegalComplaintTransition(ValueError):
    """The action is not possible in this state, or not for this role."""

    def __init__(self, state: State, action: Action, role: ActorRole, *, wrong_role: bool = False):
        super().__init__(f"{role.value} cannot {action.value} a complaint that is {state.value}")
        self.state, self.action, self.role, self.wrong_role = state, action, role, wrong_role


def next_state(state: State | str, action: Action | str, role: ActorRole | str) -> State:
    """The state after `role` takes `action`; IllegalComplaintTransition if the table or the role forbids it."""
    state, action, role = State(state), Action(action), ActorRole(role)
    if role not in ACTION_ROLES[action]:
        raise IllegalComplaintTransition(state, action, role, wrong_role=True)
    try:
        return TRANSITIONS[state][action]
    except KeyError:
        raise IllegalComplaintTransition(state, action, role) from None


def allowed_actions(state: State | str, role: ActorRole | str) -> list[Action]:
    """The actions `role` may take now (drives which buttons a page shows; services re-check)."""
    state, role = State(state), ActorRole(role)
    return [action for action in TRANSITIONS[state] if role in ACTION_ROLES[action]]


def outcome_for(action: Action | str, chosen: Outcome | str | None = None) -> Outcome | None:
    """The outcome a closing action records: withdrawal and consumer acceptance fix it, a close needs one."""
    action = Action(action)
    if action is Action.WITHDRAW:
        return Outcome.WITHDRAWN
    if action is Action.CONSUMER_ACCEPT:
        return Outcome.RESOLVED
    if action is Action.CLOSE:
        if chosen is None or Outcome(chosen) not in CLOSING_OUTCOMES:
            raise ValueError("a moderator's close needs one of the closing outcomes")
        return Outcome(chosen)
    return None


# ---------------------------------------------------------------- working-day deadlines

@dataclass(frozen=True)
class DeadlinePolicy:
    """Working days allowed at each stage (DOMAIN.md §7: 7 accept/reject, 10 company, 45 mediation)."""
    decide_workdays: int = 7
    respond_workdays: int = 10
    mediation_workdays: int = 45


def add_workdays(start: dt.date, workdays: int, is_workday: Callable[[dt.date], bool]) -> dt.date:
    """The `workdays`-th working day after `start` (the day of receipt itself is not counted)."""
    if workdays < 0:
        raise ValueError("workdays must not be negative")
    day, left = start, workdays
    while left > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def due_on(state: State | str, *, clock_started_on: dt.date, accepted_on: dt.date | None,
           policy: DeadlinePolicy, is_workday: Callable[[dt.date], bool]) -> dt.date | None:
    """When the current stage must be finished, or None when the next move is the consumer's or nobody's.

    submitted: the body decides within 7 WD of receipt (or of the consumer's added information);
    accepted: the company answers within 10 WD of acceptance; disputed and mediation: the body ends
    mediation within 45 WD of acceptance (as SAMR rule Art 21 counts it).
    """
    state = State(state)
    if state is State.SUBMITTED:
        return add_workdays(clock_started_on, policy.decide_workdays, is_workday)
    if state is State.ACCEPTED and accepted_on is not None:
        return add_workdays(accepted_on, policy.respond_workdays, is_workday)
    if state in (State.DISPUTED, State.MEDIATION) and accepted_on is not None:
        return add_workdays(accepted_on, policy.mediation_workdays, is_workday)
    return None


def is_overdue(due: dt.date | None, today: dt.date) -> bool:
    """A stage is overdue from the day after its last working day."""
    return due is not None and today > due


def response_on_time(response_due: dt.date | None, answered_on: dt.date) -> bool:
    """The company answered by the end of its last allowed working day."""
    return response_due is None or answered_on <= response_due


# ---------------------------------------------------------------- display masks (PIPL, DOMAIN.md §7.1)

# What may not be published is decided by one detector, registry/complaints/privacy.py; these two
# helpers only shorten a known name or number for display.


def mask_name(name: str) -> str:
    """王小明 → 王某某; a Latin name keeps its first letter (J***). Two-character surnames are rare enough
    that the first character alone is kept, which reveals less, not more."""
    name = (name or "").strip()
    if not name:
        return ""
    first = name[0]
    if re.match(r"[\u4e00-\u9fff]", first):
        return first + "某某"
    return first + "***"


def mask_mobile(mobile: str) -> str:
    """13812345678 → 138****5678 (3 + 4 kept, the common convention)."""
    digits = re.sub(r"\D", "", mobile or "")
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 7:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


def summary(text: str, limit: int = 140) -> str:
    """A short public summary: whitespace folded, cut at `limit` characters with an ellipsis."""
    folded = " ".join((text or "").split())
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


# ---------------------------------------------------------------- public statistics

def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def months_back(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` before `day`'s month (window start for rolling statistics)."""
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def same_day_months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier, clamped to the month's end (2026-03-31 minus 1 → 2026-02-28)."""
    first = months_back(day, months)
    next_month = months_back(first, -1)
    return min(first.replace(day=day.day) if day.day <= 28 else first + dt.timedelta(days=day.day - 1),
               next_month - dt.timedelta(days=1))


def percent(part: int, whole: int) -> int | None:
    """Whole-number percentage, or None when there is nothing to divide (shown as "—")."""
    if not whole:
        return None
    return round(100 * part / whole)


# ---------------------------------------------------------------- sanction policy

class SanctionAction(enum.StrEnum):
    SPECIAL_AUDIT = "special_audit"
    LOWER_LEVEL = "lower_level"
    SUSPEND = "suspend"


ACTION_RANK = {SanctionAction.SPECIAL_AUDIT: 1, SanctionAction.LOWER_LEVEL: 2, SanctionAction.SUSPEND: 3}


@dataclass(frozen=True)
class Threshold:
    id: str
    points: Decimal
    action: SanctionAction


@dataclass(frozen=True)
class SanctionPolicy:
    version: str
    window_months: int
    severity_points: dict[str, Decimal]
    outcome_factor: dict[str, Decimal]
    unanswered_multiplier: Decimal
    critical_action: SanctionAction
    thresholds: tuple[Threshold, ...]     # ascending by points
    suspension_months: int


class PolicyError(ValueError):
    """The sanction rules file is malformed (named at start-up, like a scheme file)."""


def parse_policy(data: dict) -> SanctionPolicy:
    """Validate the published rules (sanction_rules.toml) into a SanctionPolicy."""
    try:
        severity = {str(k): Decimal(str(v)) for k, v in data["severity_points"].items()}
        factors = {str(k): Decimal(str(v)) for k, v in data["outcome_factor"].items()}
        thresholds = tuple(sorted((Threshold(str(t["id"]), Decimal(str(t["points"])), SanctionAction(t["action"]))
                                   for t in data["thresholds"]), key=lambda t: t.points))
        policy = SanctionPolicy(version=str(data["version"]), window_months=int(data["window_months"]),
                                severity_points=severity, outcome_factor=factors,
                                unanswered_multiplier=Decimal(str(data["unanswered_multiplier"])),
                                critical_action=SanctionAction(data.get("critical_action", "suspend")),
                                thresholds=thresholds, suspension_months=int(data.get("suspension_months", 3)))
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        raise PolicyError(f"sanction rules: {error!r}") from error
    if set(severity) != {s.value for s in Severity}:
        raise PolicyError("sanction rules: severity_points must name minor, major and critical")
    if not thresholds or policy.window_months < 1:
        raise PolicyError("sanction rules: need at least one threshold and a window of at least one month")
    return policy


@dataclass(frozen=True)
class ComplaintFacts:
    """What the policy needs to know about one closed complaint."""
    id: int
    closed_on: dt.date
    outcome: str
    severity: str | None
    unanswered: bool


@dataclass(frozen=True)
class SanctionDecision:
    action: SanctionAction
    rule_id: str
    points: Decimal
    complaint_ids: tuple[int, ...]
    weights: dict[int, Decimal] = field(default_factory=dict)


def complaint_weight(policy: SanctionPolicy, facts: ComplaintFacts) -> Decimal:
    """Severity points × outcome factor (upheld 1, partly ½, others 0), doubled when it went unanswered."""
    factor = policy.outcome_factor.get(facts.outcome, Decimal(0))
    if not factor or not facts.severity:
        return Decimal(0)
    weight = policy.severity_points.get(facts.severity, Decimal(0)) * factor
    if facts.unanswered:
        weight *= policy.unanswered_multiplier
    return weight


def evaluate(policy: SanctionPolicy, complaints: Iterable[ComplaintFacts], today: dt.date) -> SanctionDecision | None:
    """The sanction the rules call for over the rolling window ending today, or None.

    A critical complaint that is upheld (not merely partly upheld) proposes the critical action at once; otherwise the highest threshold
    the summed weights reach wins. Only complaints closed inside the window count.
    """
    window_start = same_day_months_before(today, policy.window_months)
    counted = [c for c in complaints if window_start < c.closed_on <= today]
    weights = {c.id: complaint_weight(policy, c) for c in counted}
    weights = {cid: w for cid, w in weights.items() if w > 0}
    # The published rule reads 成立的严重投诉: only a fully upheld critical complaint proposes the critical
    # action at once; a partly upheld one counts its (halved) points like any other.
    critical = sorted(c.id for c in counted if c.severity == Severity.CRITICAL and c.outcome == Outcome.UPHELD
                      and weights.get(c.id))
    total = sum(weights.values(), Decimal(0))
    if critical:
        return SanctionDecision(policy.critical_action, "critical", total, tuple(sorted(weights)), weights)
    reached = [t for t in policy.thresholds if total >= t.points]
    if not reached:
        return None
    rule = reached[-1]
    return SanctionDecision(rule.action, rule.id, total, tuple(sorted(weights)), weights)


def lower_level_id(level_ids: list[str], current: str) -> str | None:
    """The level one step below `current` on the scheme's ladder (ascending), or None at the bottom."""
    if current not in level_ids:
        return None
    index = level_ids.index(current)
    return level_ids[index - 1] if index > 0 else None


def stronger(a: SanctionAction, b: SanctionAction) -> bool:
    """Whether action a is a heavier sanction than b."""
    return ACTION_RANK[SanctionAction(a)] > ACTION_RANK[SanctionAction(b)]


# Proposal states after which the proposal's complaints are spent: a decided proposal (confirmed,
# rejected, appealed either way) has weighed them, so the next evaluation does not count them again.
DECIDED_PROPOSAL_STATES = frozenset({"confirmed", "rejected", "appealed", "appeal_upheld", "appeal_dismissed"})


@dataclass(frozen=True)
class HearingPolicy:
    """Working days of due process: the company's hearing window and the body's time to decide an appeal.

    Every proposal leaves the company a hearing window; a critical one (safety, fraud) a shorter one,
    never none. Meanwhile an officer may suspend provisionally, by an explicit decision.
    """
    response_workdays: int = 5
    critical_response_workdays: int = 2
    appeal_decide_workdays: int = 10

    def __post_init__(self):
        if min(self.response_workdays, self.critical_response_workdays, self.appeal_decide_workdays) < 1:
            raise PolicyError("hearing windows and the appeal deadline must be at least one working day")
        if self.critical_response_workdays > self.response_workdays:
            raise PolicyError("the critical hearing window may not be longer than the ordinary one")


def respond_by(policy: HearingPolicy, proposed_on: dt.date, *, critical: bool,
               is_workday: Callable[[dt.date], bool]) -> dt.date:
    """The last working day the company may answer a proposal (never the day it is proposed)."""
    days = policy.critical_response_workdays if critical else policy.response_workdays
    return add_workdays(proposed_on, days, is_workday)


def appeal_decide_by(policy: HearingPolicy, appealed_on: dt.date, is_workday: Callable[[dt.date], bool]) -> dt.date:
    """The last working day by which the body must decide an appeal lodged on `appealed_on`."""
    return add_workdays(appealed_on, policy.appeal_decide_workdays, is_workday)


def resumed_suspension_end(held_end: dt.date, appealed_on: dt.date, decided_on: dt.date) -> dt.date:
    """After a dismissed appeal the suspension resumes for the days it still had when the appeal was lodged.

    The time under appeal neither counts against the company (the suspension is held, not running out)
    nor shortens the sanction: 10 days left on the day of the appeal are 10 days after the decision.
    """
    remaining = max((held_end - appealed_on).days, 1)
    return decided_on + dt.timedelta(days=remaining)


# Ledger kinds that are a later decision on what a sanction changed: the level, or the suspension.
LEVEL_DECISION_KINDS = frozenset({"level_changed", "renewed"})
STATUS_DECISION_KINDS = frozenset({"suspended", "restored", "revoked", "withdrawn", "renewed", "expired",
                                   "suspension_changed"})


@dataclass(frozen=True)
class LaterEntry:
    """One ledger entry written after a sanction was applied (kind, day, the proposal it belongs to)."""
    kind: str
    effective_on: dt.date
    proposal_id: int | None = None
    audit_kind: str | None = None


def superseding_entry(action: SanctionAction | str, proposal_id: int, later: Iterable[LaterEntry]) -> LaterEntry | None:
    """The first later decision that replaced what the sanction changed, or None if it still stands.

    A lowered level is superseded by any later level decision (an audit's regrade, another sanction, a
    renewal); a sanction suspension by any later status decision (restored, revoked, withdrawn, renewed,
    another suspension); a special-audit requirement by the special audit being recorded. Entries
    written for this proposal itself (its appeal hold) never supersede it.
    """
    action = SanctionAction(action)
    for entry in later:
        if entry.proposal_id == proposal_id:
            continue
        if action is SanctionAction.LOWER_LEVEL and entry.kind in LEVEL_DECISION_KINDS:
            return entry
        if action is SanctionAction.SUSPEND and entry.kind in STATUS_DECISION_KINDS:
            return entry
        if action is SanctionAction.SPECIAL_AUDIT and entry.kind == "audit_recorded" and entry.audit_kind == "special":
            return entry
    return None
