"""Generated sequences of complaints, sanctions, provisional suspensions, appeals, audits, restorations and
days passing (Hypothesis RuleBasedStateMachine) on a real database. After every step:

- a suspension under a pending appeal is never shown as revoked (it does not run out);
- the complaints of decided proposals never overlap (no complaint is counted by two decisions);
- every proposal leaves the company at least one working day to respond;
- an upheld appeal restores exactly what the sanction changed when nothing replaced it since, and
  changes nothing (with a public note) when a later decision did.
"""
from __future__ import annotations

import datetime as dt
import os

from flask import current_app
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from registry import clock
from registry.certificates.models import Certificate
from registry.complaints import calendar, services
from registry.complaints.models import Complaint, SanctionProposal
from registry.errors import RegistryError
from registry.extensions import db
from registry.office import services as office
from tests.complaints.conftest import make_user
from tests.complaints.test_services import make_complaint
from tests.conftest import close_app, make_app
from tests.factories import make_certificate

STAFF: dict = {}


class SanctionMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        current_app.config["REGISTRY_TODAY"] = "2026-06-01"
        certificate = make_certificate(level="4", last_surveillance_on=dt.date(2026, 5, 20))
        self.cert_id = certificate.id
        self.company = make_user("company", certificate.company)
        db.session.commit()
        self.applied: dict[int, dict] = {}    # proposal id -> what the model expects an upheld appeal to do
        self.last_audit = dt.date(2026, 5, 20)

    # -------------------------------------------------------------- helpers
    @property
    def cert(self) -> Certificate:
        return db.session.get(Certificate, self.cert_id)

    def proposals(self, *states: str) -> list[SanctionProposal]:
        query = select(SanctionProposal).where(SanctionProposal.certificate_id == self.cert_id)
        if states:
            query = query.where(SanctionProposal.state.in_(states))
        return list(db.session.scalars(query.order_by(SanctionProposal.id)))

    def attempt(self, action) -> bool:
        try:
            action()
        except RegistryError:
            db.session.rollback()
            return False
        db.session.commit()
        return True

    def supersede(self, kind: str, except_id: int | None = None) -> None:
        for pid, expected in self.applied.items():
            if pid != except_id and expected["action"] == kind:
                expected["superseded"] = True

    # -------------------------------------------------------------- rules
    @initialize(start=st.sampled_from(["lower_level", "suspend", "special_audit", "none"]), confirm=st.booleans())
    def start_with_a_sanction(self, start, confirm):
        """Most examples begin with a confirmed sanction, so appeals and later decisions are reached often."""
        if start == "none":
            return
        severity, count = {"lower_level": ("major", 3), "suspend": ("critical", 1), "special_audit": ("major", 2)}[start]
        self.close_complaints(severity, "upheld", count)
        self.company_responds()
        if confirm:
            self.officer_decides(True)

    @rule(severity=st.sampled_from(["major", "minor", "critical"]), outcome=st.sampled_from(["upheld", "partially_upheld"]),
          count=st.integers(1, 3))
    def close_complaints(self, severity, outcome, count):
        for _i in range(count):
            complaint, _token = make_complaint(self.cert)
            services.accept_complaint(complaint, STAFF["moderator"])
            services.respond_to_complaint(complaint, self.company, text="已处理")
            proposal = services.close_complaint(complaint, STAFF["moderator"], outcome=outcome, severity=severity,
                                                public_summary=None)
            db.session.commit()
            if proposal is not None and proposal.rule_id == "critical":
                # 成立的严重投诉: a critical proposal always counts a fully upheld critical complaint.
                assert db.session.scalar(select(func.count()).select_from(Complaint).where(
                    Complaint.id.in_(proposal.complaint_ids), Complaint.severity == "critical",
                    Complaint.outcome == "upheld"))

    @precondition(lambda self: self.proposals("proposed"))
    @rule()
    def company_responds(self):
        self.attempt(lambda: services.respond_to_sanction(self.proposals("proposed")[-1], self.company, text="陈述"))

    @precondition(lambda self: self.proposals("proposed"))
    @rule()
    def officer_suspends_provisionally(self):
        proposal = self.proposals("proposed")[-1]
        if self.attempt(lambda: services.suspend_provisionally(proposal, STAFF["officer"], reason="先行暂停")):
            self.supersede("suspend", except_id=proposal.id)

    @precondition(lambda self: self.proposals("proposed"))
    @rule(confirm=st.booleans())
    def officer_decides(self, confirm):
        proposal = self.proposals("proposed")[-1]
        if not proposal.company_response and clock.today() <= proposal.respond_by:
            # The officer waits out the company's hearing window (deciding earlier is refused, tested apart).
            current_app.config["REGISTRY_TODAY"] = (proposal.respond_by + dt.timedelta(days=1)).isoformat()
        before = {"level": self.cert.level, "action": proposal.action, "provisional": proposal.provisional_on}
        if not self.attempt(lambda: services.decide_sanction(proposal, STAFF["officer"], confirm=confirm, reason="决定")):
            return
        if confirm:
            if proposal.action == "lower_level":
                self.supersede("lower_level", except_id=proposal.id)
            if proposal.action == "suspend":
                self.supersede("suspend", except_id=proposal.id)
            self.applied[proposal.id] = {"action": proposal.action, "superseded": False,
                                         "level_before": before["level"]}
        elif before["provisional"] and self.cert.status == "valid":
            self.supersede("suspend")

    @precondition(lambda self: self.proposals("confirmed"))
    @rule()
    def company_appeals(self):
        self.attempt(lambda: services.appeal_sanction(self.proposals("confirmed")[-1], self.company, text="申诉"))

    @precondition(lambda self: self.proposals("appealed"))
    @rule(uphold=st.booleans())
    def another_officer_decides_the_appeal(self, uphold):
        proposal = self.proposals("appealed")[0]
        expected = self.applied[proposal.id]
        level, status = self.cert.level, self.cert.effective_status()
        in_force = status in ("valid", "suspended") and (
            proposal.action != "suspend" or (self.cert.status == "suspended" and status == "suspended"))
        assert self.attempt(lambda: services.decide_appeal(proposal, STAFF["officer2"], uphold=uphold, reason="申诉决定"))
        cert = self.cert
        event(f"appeal {'upheld' if uphold else 'dismissed'}: {proposal.action}"
              f"{' (superseded)' if expected['superseded'] or not in_force else ''}")
        if not uphold:
            return
        if expected["superseded"] or not in_force:
            assert cert.level == level and proposal.appeal_note
            assert cert.effective_status() == status
        elif proposal.action == "lower_level":
            assert cert.level == expected["level_before"] and not proposal.appeal_note
            self.supersede("lower_level", except_id=proposal.id)
        elif proposal.action == "suspend":
            assert cert.effective_status() == "valid" and not proposal.appeal_note
            self.supersede("suspend", except_id=proposal.id)

    @rule(total=st.sampled_from(["85", "92", "97"]))
    def special_audit_regrades(self, total):
        day = max(clock.today(), self.last_audit + dt.timedelta(days=1))
        current_app.config["REGISTRY_TODAY"] = day.isoformat()
        before = self.cert.level
        if self.attempt(lambda: office.record_special_audit(
                STAFF["officer"], self.cert, office.AuditInput(audited_on=day, mode="total", earned_total=total,
                                                                applicable_total="100"),
                reason="专项审核", apply_raise=True)):
            self.last_audit = day
            if self.cert.level != before:
                self.supersede("lower_level")

    @precondition(lambda self: self.cert.status == "suspended")
    @rule()
    def officer_restores(self):
        if self.attempt(lambda: office.restore(STAFF["officer"], self.cert, reason="整改完成")):
            self.supersede("suspend")

    @rule(days=st.integers(1, 20))
    def days_pass(self, days):
        current_app.config["REGISTRY_TODAY"] = (clock.today() + dt.timedelta(days=days)).isoformat()

    # -------------------------------------------------------------- invariants
    @invariant()
    def a_suspension_under_appeal_never_runs_out(self):
        for proposal in self.proposals("appealed"):
            if proposal.action == "suspend":
                assert self.cert.effective_status() != "revoked"

    @invariant()
    def no_complaint_is_counted_by_two_decisions(self):
        seen: set[int] = set()
        for proposal in self.proposals("confirmed", "rejected", "appealed", "appeal_upheld", "appeal_dismissed"):
            assert not seen & set(proposal.complaint_ids)
            seen |= set(proposal.complaint_ids)

    @invariant()
    def every_proposal_leaves_a_hearing_window(self):
        for proposal in self.proposals():
            assert proposal.respond_by > proposal.proposed_on and calendar.is_workday(proposal.respond_by)

    @invariant()
    def an_appeal_always_has_its_deadline(self):
        for proposal in self.proposals("appealed", "appeal_upheld", "appeal_dismissed"):
            assert proposal.appeal_decide_by is not None and proposal.appeal_decide_by > proposal.appealed_on


def test_sanction_sequences_keep_due_process(tmp_path, backend):
    # Search consistency has its own generated test; here commits leave the outbox to an external indexer
    # so the example database stays small and fast.
    app = make_app(tmp_path, backend, SEARCH_INDEXER="external")
    try:
        with app.app_context():
            STAFF.update(moderator=make_user("moderator"), officer=make_user("officer"), officer2=make_user("officer"))
            db.session.commit()
            run_state_machine_as_test(SanctionMachine, settings=settings(
                max_examples=int(os.environ.get("SANCTION_EXAMPLES", 40)), stateful_step_count=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    finally:
        close_app(app, tmp_path)

