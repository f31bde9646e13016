"""Planning an import against the registry: pure (no Flask, no database), table-tested.

`plan_import(rows, existing, companies, today)` compares checked rows (importer.ImportRow) with what the
registry holds and says, row by row, what the import would do: create a certificate, update descriptive
fields, change a level or a status (through the lifecycle module's transitions when applied), or nothing.
It refuses (as importer.Problem, with line, column and reason) what the back office would refuse too:

- a status or level change where the registry holds a later decision of its own (a ledger entry by an
  officer, a sanction, an audit or the tick after the row's dates, the file's as-of day or its ledger head);
- a transition the certificate's status as the public sees it today does not allow (an on-read revocation
  is final, as in the back office);
- any change but a descriptive one to a certificate that is revoked, withdrawn or expired;
- a certificate that would move to another company or scheme, or that matches two registry entries.

Rows it accepts but whose dates make the public see something other than the row's status (an overdue
surveillance audit, a suspension that has run out, a past expiry) come back as warnings.

Certificate numbers are matched folded (`identifiers.fold`): the caller keys `existing` by folded number.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from registry.certificates.importer import N_, ImportRow, Problem
from registry.certificates.rules import (
    DEFAULT_POLICY,
    TERMINAL_STATUSES,
    CertificateStatus,
    IllegalTransition,
    LifecycleAction,
    StatusPolicy,
    add_months,
    effective_status,
    next_status,
    overdue_suspension_end,
    surveillance_due_on,
)
from registry.schemes import get_scheme

# Ledger kinds that are not decisions about status, level or dates.
NOT_DECISIONS = frozenset({"updated", "imported", "complaint_outcome"})
# Entries written by imports are the source register's own past state: a newer file may supersede them.
IMPORT_ROLES = frozenset({"import", "demo"})

# The columns whose change is a decision (lifecycle transitions, dates the status depends on); the rest
# (scope, service sites, company details) are descriptive and always follow the file.
DECISION_FIELDS = ("level", "score", "issued_on", "expires_on", "first_issued_on", "last_surveillance_on",
                   "recertification_count", "status", "status_reason", "status_changed_on", "suspended_until")
DESCRIPTIVE_FIELDS = ("scope", "service_sites")
STATUS_DETAILS = ("status_reason", "status_changed_on", "suspended_until")

STATUS_WORDS = {"valid": "有效/valid", "suspended": "暂停/suspended", "revoked": "撤销/revoked",
                "withdrawn": "注销/withdrawn", "expired": "过期/expired"}
STATUS_ACTIONS = {CertificateStatus.VALID: LifecycleAction.RESTORE, CertificateStatus.SUSPENDED: LifecycleAction.SUSPEND,
                  CertificateStatus.REVOKED: LifecycleAction.REVOKE, CertificateStatus.WITHDRAWN: LifecycleAction.WITHDRAW}


@dataclass(frozen=True)
class ExistingCompany:
    """A company as the registry holds it."""
    uscc: str
    name: str
    province: str
    city: str
    address: str
    industry: str
    enterprise_type: str
    former_names: tuple[str, ...] = ()

    def values(self) -> dict:
        return {"name": self.name, "province": self.province, "city": self.city, "address": self.address,
                "industry": self.industry, "enterprise_type": self.enterprise_type,
                "former_names": list(self.former_names)}


@dataclass(frozen=True)
class ExistingCertificate:
    """A certificate as the registry holds it, with its latest decision not written by an import."""
    number: str
    uscc: str
    scheme_id: str
    level: str
    score: Decimal | None
    scope: str
    service_sites: tuple[str, ...]
    issued_on: dt.date
    expires_on: dt.date
    first_issued_on: dt.date
    last_surveillance_on: dt.date | None
    status: str
    status_reason: str = ""
    status_changed_on: dt.date | None = None
    suspended_until: dt.date | None = None
    recertification_count: int = 0
    last_decision_seq: int | None = None
    last_decision_on: dt.date | None = None
    last_decision_kind: str = ""

    def public_status(self, today: dt.date, policy: StatusPolicy = DEFAULT_POLICY) -> CertificateStatus:
        return _public_status(self.scheme_id, self.status, self.issued_on, self.expires_on, self.last_surveillance_on,
                              self.suspended_until, today, policy)


@dataclass
class CertificateChange:
    """What the import does with one row."""
    row: ImportRow
    number: str               # the registry's spelling: an existing certificate keeps its number
    action: str               # "create", "update" or "unchanged"
    fields: dict = field(default_factory=dict)     # lifecycle.sync_record's changes (a new one: all its columns)
    changed: list[str] = field(default_factory=list)  # names for the 'updated' ledger entry
    level: str | None = None                       # a level change (lifecycle.change_level)
    transition: LifecycleAction | None = None      # a status change (lifecycle.apply_status)
    suspended_until: dt.date | None = None         # the end of a suspension the transition starts


@dataclass
class CompanyChange:
    action: str  # "create", "update" or "unchanged"
    values: dict


@dataclass
class ImportPlan:
    certificates: list[CertificateChange]
    companies: dict[str, CompanyChange]
    problems: list[Problem]
    warnings: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _public_status(scheme_id, status, issued_on, expires_on, last_surveillance_on, suspended_until, today, policy):
    scheme = get_scheme(scheme_id)
    due = surveillance_due_on(last_surveillance_on or issued_on, scheme.surveillance_interval_months) if scheme else None
    return effective_status(status, expires_on, today, suspended_until=suspended_until, surveillance_due_on=due,
                            policy=policy)


def company_values(row: ImportRow) -> dict:
    return {"name": row.company_name, "province": row.province, "city": row.city, "address": row.address,
            "industry": row.industry, "enterprise_type": row.enterprise_type, "former_names": list(row.former_names)}


def plan_import(rows: Sequence[ImportRow], existing: Mapping[str, Sequence[ExistingCertificate]],
                companies: Mapping[str, ExistingCompany], today: dt.date, *, policy: StatusPolicy = DEFAULT_POLICY,
                as_of: dt.date | None = None, ledger_seq: int | None = None, only_new: bool = False) -> ImportPlan:
    """Compare rows with the registry and decide every change; refuse what the back office would refuse.

    `existing` maps a folded certificate number to the registry's certificates with that folded number
    (normally one). `as_of` (the file's day) or `ledger_seq` (the ledger head it was exported at, trusted
    only when the caller checked its hash) date the file; without them each row is dated by its own dates.
    """
    from registry.certificates.identifiers import fold

    plan = ImportPlan([], {}, [], [])
    for row in rows:
        matches = list(existing.get(fold(row.certificate_number), ()))
        if len(matches) > 1:
            plan.problems.append(Problem(row.line, "certificate_number", "ambiguous_number", N_(
                "Certificate number %(value)s matches several certificates in the registry (%(others)s): "
                "numbers are compared without spaces, dashes and case. Resolve this in the registry first."),
                {"value": row.certificate_number, "others": ", ".join(sorted(m.number for m in matches))}))
            continue
        if matches and only_new:
            plan.certificates.append(CertificateChange(row, matches[0].number, "unchanged"))
            continue
        change = (_plan_update(row, matches[0], today, policy, as_of, ledger_seq, plan.problems) if matches
                  else _plan_create(row, today, policy, plan.problems))
        if change is None:
            continue
        plan.certificates.append(change)
        if change.action != "unchanged":
            plan.warnings.extend(_warnings(change, today, policy))

    for change in plan.certificates:
        row = change.row
        if row.uscc in plan.companies or change.action == "unchanged" and only_new:
            continue
        values = company_values(row)
        known = companies.get(row.uscc)
        action = "create" if known is None else "unchanged" if known.values() == values else "update"
        plan.companies[row.uscc] = CompanyChange(action, values)
    for change in plan.certificates:
        company = plan.companies.get(change.row.uscc)
        if change.action == "unchanged" and company is not None and company.action == "update" and not only_new:
            change.action, change.changed = "update", ["company"]
        elif change.action == "update" and company is not None and company.action == "update":
            change.changed.append("company")
    plan.problems.sort(key=lambda p: p.line or 0)
    return plan


def _plan_create(row: ImportRow, today: dt.date, policy: StatusPolicy, problems: list[Problem]
                 ) -> CertificateChange | None:
    status = CertificateStatus(row.status)
    changed_on = row.status_changed_on or (today if status is not CertificateStatus.VALID else None)
    until = None
    found = []
    if changed_on is not None and row.status_changed_on is None and changed_on > row.expires_on:
        found.append(Problem(row.line, "status_changed_on", "status_after_expiry", N_(
            "Without a status_changed_on the status %(value)s would take effect today, after the expiry date "
            "%(expires)s: give the date it was decided."), {"value": row.status, "expires": row.expires_on.isoformat()}))
    if status is CertificateStatus.SUSPENDED:
        until = row.suspended_until or add_months(changed_on, policy.max_suspension_months)
        if row.status_changed_on is None and row.suspended_until is not None:
            found.extend(_until_problems(row, changed_on, policy))
    if changed_on is not None and not found:
        # Checked as lifecycle.apply_status will: against what the row's own dates showed on that day.
        then = _public_status(row.scheme_id, CertificateStatus.VALID.value, row.issued_on, row.expires_on,
                              row.last_surveillance_on, None, changed_on, policy)
        try:
            if then is not status:
                next_status(then, STATUS_ACTIONS[status])
        except IllegalTransition:
            found.append(Problem(row.line, "status_changed_on", "status_after_revocation", N_(
                "By its own dates the certificate was already %(status)s on %(day)s (no surveillance audit since "
                "%(last)s), and that is final: the status %(value)s cannot take effect then. Give the last "
                "surveillance audit, or the date the status was decided."),
                {"status": STATUS_WORDS[then.value], "day": changed_on.isoformat(),
                 "last": (row.last_surveillance_on or row.issued_on).isoformat(), "value": row.status}))
    if found:
        problems.extend(found)
        return None
    fields = {"scheme_id": row.scheme_id, "level": row.level, "score": row.score, "scope": row.scope,
              "service_sites": list(row.service_sites), "issued_on": row.issued_on, "expires_on": row.expires_on,
              "first_issued_on": row.first_issued_on or row.issued_on, "last_surveillance_on": row.last_surveillance_on,
              "recertification_count": row.recertification_count or 0, "status": row.status,
              "status_reason": row.status_reason, "status_changed_on": changed_on, "suspended_until": until}
    return CertificateChange(row, row.certificate_number, "create", fields)


def _until_problems(row: ImportRow, start: dt.date, policy: StatusPolicy) -> list[Problem]:
    until = row.suspended_until
    if until <= start:
        return [Problem(row.line, "suspended_until", "until_before_start", N_(
            "The suspension end %(value)s is not after the suspension date %(start)s."),
            {"value": until.isoformat(), "start": start.isoformat()})]
    if until > add_months(start, policy.max_suspension_months):
        return [Problem(row.line, "suspended_until", "suspension_too_long", N_(
            "The suspension end %(value)s is more than %(months)s months after the suspension date %(start)s."),
            {"value": until.isoformat(), "months": policy.max_suspension_months, "start": start.isoformat()})]
    return []


def _target(row: ImportRow, known: ExistingCertificate) -> dict:
    """The decision fields as the row wants them; what the row leaves empty keeps the registry's value."""
    same_status = row.status == known.status
    return {
        "level": row.level, "score": row.score, "issued_on": row.issued_on, "expires_on": row.expires_on,
        "first_issued_on": row.first_issued_on or min(known.first_issued_on, row.issued_on),
        "last_surveillance_on": row.last_surveillance_on,
        "recertification_count": (known.recertification_count if row.recertification_count is None
                                  else row.recertification_count),
        "status": row.status,
        "status_reason": (row.status_reason or known.status_reason) if same_status else row.status_reason,
        "status_changed_on": (row.status_changed_on or known.status_changed_on) if same_status else row.status_changed_on,
        "suspended_until": (row.suspended_until or known.suspended_until) if same_status else row.suspended_until,
    }


def _plan_update(row: ImportRow, known: ExistingCertificate, today: dt.date, policy: StatusPolicy,
                 as_of: dt.date | None, ledger_seq: int | None, problems: list[Problem]) -> CertificateChange | None:
    found: list[Problem] = []
    if known.uscc != row.uscc:
        found.append(Problem(row.line, "uscc", "certificate_other_company", N_(
            "Certificate %(number)s is registered to the company with credit code %(other)s; a certificate "
            "cannot move to another company."), {"number": known.number, "other": known.uscc}))
    if known.scheme_id != row.scheme_id:
        found.append(Problem(row.line, "scheme", "scheme_changed", N_(
            "Certificate %(number)s is registered under scheme %(other)s; its scheme cannot change."),
            {"number": known.number, "other": known.scheme_id}))
    if found:
        problems.extend(found)
        return None

    change = CertificateChange(row, known.number, "unchanged")
    descriptive = {"scope": row.scope, "service_sites": list(row.service_sites)}
    for name, value in descriptive.items():
        current = list(known.service_sites) if name == "service_sites" else getattr(known, name)
        if current != value:
            change.fields[name] = value
            change.changed.append(name)
    target = _target(row, known)
    decided = [name for name in DECISION_FIELDS if target[name] != getattr(known, name)]
    change.suspended_until = target["suspended_until"]
    if not decided:
        change.action = "update" if change.changed else "unchanged"
        return change

    where = decided[0]
    columns = ", ".join(decided)
    public = known.public_status(today, policy)
    if public in TERMINAL_STATUSES:
        problems.append(Problem(row.line, where, "terminal_status", N_(
            "Certificate %(number)s is %(status)s in the registry, as the public sees it today: that is final, so the "
            "row cannot change %(columns)s (only scope and company details may still be corrected)."),
            {"number": known.number, "status": STATUS_WORDS[public.value], "columns": columns,
             "other": known.status, "value": row.status}))
        return None
    if _later_decision(row, known, as_of, ledger_seq):
        problems.append(Problem(row.line, where, "later_decision", N_(
            "The registry holds a later decision on certificate %(number)s (%(kind)s, effective %(day)s) than this "
            "row (as of %(as_of)s): importing it would undo that decision (%(columns)s). Make the change in the "
            "back office, or import a newer file (export the register, or date the file with --as-of)."),
            {"number": known.number, "kind": known.last_decision_kind, "day": known.last_decision_on.isoformat(),
             "as_of": (as_of or max(row.stated_dates)).isoformat(), "columns": columns}))
        return None

    status = CertificateStatus(row.status)
    if "level" in decided:
        try:
            next_status(public, LifecycleAction.CHANGE_LEVEL)
        except IllegalTransition:
            problems.append(_transition_problem(row, known, public, "level"))
            return None
        change.level = row.level
    if row.status != known.status:
        action = STATUS_ACTIONS[status]
        try:
            next_status(public, action)
        except IllegalTransition:
            problems.append(_transition_problem(row, known, public, "status"))
            return None
        change.suspended_until = None
        if action is LifecycleAction.SUSPEND:
            start = row.status_changed_on or today
            until = row.suspended_until or add_months(start, policy.max_suspension_months)
            if until <= today:
                problems.append(Problem(row.line, "suspended_until" if row.suspended_until else "status",
                                        "suspension_already_over", N_(
                    "This suspension (from %(start)s) would have ended on %(until)s, before today: the public would "
                    "see it as 撤销/revoked at once. Write revoked, or give the real suspended_until."),
                    {"start": start.isoformat(), "until": until.isoformat()}))
                return None
            change.suspended_until = until
        change.transition = action
    else:
        change.suspended_until = target["suspended_until"]
        if status is CertificateStatus.SUSPENDED and {"status_changed_on", "suspended_until"} & set(decided):
            found = _until_problems(dataclasses.replace(row, suspended_until=target["suspended_until"]),
                                    target["status_changed_on"] or today, policy)
            if not found and target["suspended_until"] <= today:
                found = [Problem(row.line, "suspended_until", "suspension_already_over", N_(
                    "This suspension (from %(start)s) would have ended on %(until)s, before today: the public would "
                    "see it as 撤销/revoked at once. Write revoked, or give the real suspended_until."),
                    {"start": (target["status_changed_on"] or today).isoformat(),
                     "until": target["suspended_until"].isoformat()})]
            if found:
                problems.extend(found)
                return None
    for name in decided:
        # A transition writes the status details itself (the status date is then set to the row's, if given).
        if name in ("level", "status") or change.transition is not None and name in STATUS_DETAILS:
            continue
        change.fields[name] = target[name]
    change.changed = list(change.fields)
    change.action = "update"
    return change


def _later_decision(row: ImportRow, known: ExistingCertificate, as_of: dt.date | None, ledger_seq: int | None) -> bool:
    if known.last_decision_seq is None or known.last_decision_on is None:
        return False
    if ledger_seq is not None:
        return known.last_decision_seq > ledger_seq
    return known.last_decision_on > (as_of or max(row.stated_dates))


def _transition_problem(row: ImportRow, known: ExistingCertificate, public: CertificateStatus, column: str) -> Problem:
    return Problem(row.line, column, "transition_not_allowed", N_(
        "Certificate %(number)s is %(status)s today; the row's %(column)s cannot be applied to it (the back office "
        "refuses this change too)."),
        {"number": known.number, "status": STATUS_WORDS[public.value], "column": column})


def _warnings(change: CertificateChange, today: dt.date, policy: StatusPolicy) -> list[Problem]:
    """Accepted rows whose dates make the public see another status than the row's, today."""
    row = change.row
    if row.status not in (CertificateStatus.VALID.value, CertificateStatus.SUSPENDED.value):
        return []
    until = change.fields.get("suspended_until") if change.action == "create" else change.suspended_until
    public = _public_status(row.scheme_id, row.status, row.issued_on, row.expires_on, row.last_surveillance_on,
                            until, today, policy)
    if public.value == row.status:
        return []
    words = STATUS_WORDS[public.value]
    if public is CertificateStatus.EXPIRED:
        return [Problem(row.line, "expires_on", "warn_expired", N_(
            "Accepted, but the expiry date %(expires)s has passed: the public sees %(status)s."),
            {"expires": row.expires_on.isoformat(), "status": words})]
    if row.status == CertificateStatus.SUSPENDED.value:
        return [Problem(row.line, "suspended_until", "warn_suspension_over", N_(
            "Accepted, but the suspension ended on %(until)s without a restore: the public sees %(status)s."),
            {"until": until.isoformat() if until else "—", "status": words})]
    scheme = get_scheme(row.scheme_id)
    last = row.last_surveillance_on or row.issued_on
    due = surveillance_due_on(last, scheme.surveillance_interval_months)
    revoked_after = overdue_suspension_end(due, policy.surveillance_grace_days, policy.max_suspension_months)
    return [Problem(row.line, "last_surveillance_on", "warn_surveillance_overdue", N_(
        "Accepted, but no surveillance audit is recorded since %(last)s and one was due on %(due)s: the public sees "
        "%(status)s from today (revoked after %(revoked_after)s unless a surveillance audit is recorded)."),
        {"last": last.isoformat(), "due": due.isoformat(), "status": words, "revoked_after": revoked_after.isoformat()})]
