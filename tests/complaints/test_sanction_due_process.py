"""Sanctions and appeals with due process (issue 10 item 3): each reproduction first, on a real database."""
from __future__ import annotations

import datetime as dt

import pytest
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from registry.certificates.models import Certificate
from registry.complaints import presenters, services
from registry.complaints.models import SanctionProposal
from registry.errors import InvalidTransition
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from registry.office import services as office
from tests.complaints.conftest import make_user
from tests.complaints.test_services import make_complaint, set_today
from tests.factories import make_certificate


@pytest.fixture
def people(app_ctx):
    # Surveilled recently, so the dates these tests move through never make surveillance overdue.
    cert = make_certificate(level="4", last_surveillance_on=dt.date(2026, 5, 20))
    return {"cert": cert, "moderator": make_user("moderator"), "officer": make_user("officer"),
            "officer2": make_user("officer"), "company": make_user("company", cert.company)}


def close(people, outcome="upheld", severity="major"):
    complaint, _token = make_complaint(people["cert"])
    services.accept_complaint(complaint, people["moderator"])
    services.respond_to_complaint(complaint, people["company"], text="已处理")
    return services.close_complaint(complaint, people["moderator"], outcome=outcome, severity=severity,
                                    public_summary=None)


def confirmed(people, severity="major", count=3):
    for _i in range(count):
        proposal = close(people, severity=severity)
    services.respond_to_sanction(proposal, people["company"], text="我们已整改")
    services.decide_sanction(proposal, people["officer"], confirm=True, reason="投诉成立")
    db.session.commit()
    return proposal


def cert(people) -> Certificate:
    return db.session.get(Certificate, people["cert"].id)


def ledger_texts() -> list[str]:
    return [e.public_text for e in db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq))]


def audit(officer, certificate, total: str, on: str):
    return office.record_special_audit(officer, certificate, office.AuditInput(
        audited_on=dt.date.fromisoformat(on), mode="total", earned_total=total, applicable_total="100"),
        reason="专项审核", apply_raise=True)


# ---------------------------------------------------------------- an upheld appeal undoes exactly the sanction

def test_an_upheld_appeal_restores_the_level_the_sanction_lowered_when_nothing_happened_since(people):
    proposal = confirmed(people)
    assert cert(people).level == "3"
    services.appeal_sanction(proposal, people["company"], text="其中一起为重复投诉")
    services.decide_appeal(proposal, people["officer2"], uphold=True, reason="核实为重复投诉")
    db.session.commit()
    assert cert(people).level == "4" and proposal.appeal_note == ""
    assert ledger_texts()[-1].startswith("申诉成立，等级已恢复")


def test_an_upheld_appeal_after_a_later_audit_regrade_keeps_the_audited_level_with_a_public_note(people):
    # Seen: sanction 四→三, audit 97 → 五, appeal upheld → 四.
    proposal = confirmed(people)
    services.appeal_sanction(proposal, people["company"], text="申诉")
    set_today("2026-06-10")
    audit(people["officer2"], cert(people), "97", "2026-06-09")
    assert cert(people).level == "5"
    services.decide_appeal(proposal, people["officer2"], uphold=True, reason="申诉理由成立")
    db.session.commit()
    assert cert(people).level == "5"
    assert proposal.state == "appeal_upheld" and "等级变更" in proposal.appeal_note
    assert ledger_texts()[-1] == proposal.appeal_note and "该决定继续有效" in proposal.appeal_note
    # Pages say it in the reader's language; the ledger keeps the record in the legal language.
    with force_locale("en"):
        assert "Level changed, 2026-06-10" in presenters.appeal_note(proposal)
    assert "该决定继续有效" in presenters.appeal_note(proposal)


def test_an_upheld_appeal_after_the_officer_restored_the_certificate_changes_nothing_and_says_why(people):
    proposal = confirmed(people, severity="critical", count=1)
    set_today("2026-06-05")
    services.appeal_sanction(proposal, people["company"], text="安全隐患已排除")
    office.restore(people["officer"], cert(people), reason="整改完成")
    services.decide_appeal(proposal, people["officer2"], uphold=True, reason="申诉成立")
    db.session.commit()
    assert cert(people).effective_status().value == "valid" and proposal.appeal_note


# ---------------------------------------------------------------- a suspension under appeal is held

def critical_suspension(people) -> SanctionProposal:
    proposal = close(people, severity="critical")
    assert proposal.rule_id == "critical"
    set_today("2026-06-05")   # after the two working days the company had to respond
    services.decide_sanction(proposal, people["officer"], confirm=True, reason="燃气热水器安装存在安全隐患")
    db.session.commit()
    assert cert(people).suspended_until == dt.date(2026, 9, 5)
    return proposal


def test_a_suspension_under_appeal_does_not_run_out_into_revocation_and_an_upheld_appeal_lifts_it(people):
    proposal = critical_suspension(people)
    set_today("2026-08-31")
    services.appeal_sanction(proposal, people["company"], text="隐患系第三方安装造成")
    db.session.commit()
    assert proposal.appeal_decide_by == dt.date(2026, 9, 14)   # 10 working days
    set_today("2026-10-01")   # past the suspension's end and the appeal deadline, still undecided
    assert cert(people).effective_status().value == "suspended"
    assert services.is_appeal_overdue(proposal)
    services.decide_appeal(proposal, people["officer2"], uphold=True, reason="责任不在企业")
    db.session.commit()
    assert cert(people).effective_status().value == "valid" and cert(people).suspended_until is None
    assert ledger_texts()[-1].startswith("申诉成立，暂停已解除")


def test_the_daily_tick_does_not_revoke_a_suspension_held_for_an_appeal(people):
    from registry.office.tick import run_tick
    proposal = critical_suspension(people)
    services.appeal_sanction(proposal, people["company"], text="申诉")
    db.session.commit()
    set_today("2026-10-01")
    run_tick(dt.date(2026, 10, 1))
    db.session.commit()
    assert cert(people).status == "suspended" and cert(people).effective_status().value == "suspended"
    assert "revoked" not in db.session.scalars(select(LedgerEntry.kind)).all()
    # Replayed from the ledger, the days of the hold are suspended too, past the original end.
    from registry.certificates.history import status_on
    assert status_on(cert(people), dt.date(2026, 9, 20)).status.value == "suspended"


def test_a_dismissed_appeal_resumes_the_suspension_for_the_days_it_had_left(people):
    proposal = critical_suspension(people)
    set_today("2026-08-31")   # 5 days left
    services.appeal_sanction(proposal, people["company"], text="申诉")
    set_today("2026-09-10")
    services.decide_appeal(proposal, people["officer2"], uphold=False, reason="理由不成立")
    db.session.commit()
    assert cert(people).suspended_until == dt.date(2026, 9, 15)
    set_today("2026-09-16")
    assert cert(people).effective_status().value == "revoked"


def test_a_suspension_that_already_ended_can_no_longer_be_appealed(people):
    proposal = critical_suspension(people)
    set_today("2026-09-06")
    with pytest.raises(InvalidTransition):
        services.appeal_sanction(proposal, people["company"], text="申诉")


def test_the_appeal_deadline_is_shown_to_the_company_the_officers_and_the_public(app, client, people):
    from tests.complaints.conftest import sign_in
    proposal = critical_suspension(people)
    services.appeal_sanction(proposal, people["company"], text="申诉")
    db.session.commit()
    number, due = cert(people).number, proposal.appeal_decide_by.isoformat()
    for who in ("company", "officer", "moderator"):
        sign_in(client, people[who].id)
        page = client.get(f"/complaints/sanctions/{proposal.id}").get_data(as_text=True)
        assert "申诉决定期限" in page and due in page, who
    assert due in client.get("/complaints/sanctions").get_data(as_text=True)
    with client.session_transaction() as s:
        s.clear()
    public = client.get(f"/certificates/{number}").get_data(as_text=True)
    assert due in public and "申诉" in public
    set_today("2026-07-01")
    assert "已逾期" in client.get(f"/certificates/{number}").get_data(as_text=True)


# ---------------------------------------------------------------- complaints are counted by one decision only

@pytest.mark.parametrize("decide", ["rejected", "appeal_upheld"])
def test_complaints_counted_by_a_decided_proposal_are_not_counted_again(people, decide):
    for _i in range(3):
        proposal = close(people)
    services.respond_to_sanction(proposal, people["company"], text="说明")
    services.decide_sanction(proposal, people["officer"], confirm=decide != "rejected", reason="决定")
    if decide == "appeal_upheld":
        services.appeal_sanction(proposal, people["company"], text="申诉")
        services.decide_appeal(proposal, people["officer2"], uphold=True, reason="成立")
    assert close(people) is None   # 3 fresh points only: the three decided complaints are spent


# ---------------------------------------------------------------- the company is heard, critical cases too

def test_a_critical_proposal_leaves_the_company_a_hearing_window_before_any_decision(people):
    proposal = close(people, severity="critical")
    assert proposal.respond_by == dt.date(2026, 6, 3) and proposal.respond_by > proposal.proposed_on
    with pytest.raises(InvalidTransition):
        services.decide_sanction(proposal, people["officer"], confirm=True, reason="安全隐患")
    assert cert(people).effective_status().value == "valid"


def test_a_partly_upheld_critical_complaint_does_not_propose_immediate_suspension(people):
    assert close(people, outcome="partially_upheld", severity="critical").action == "special_audit"


def test_an_officer_may_suspend_provisionally_during_the_hearing_and_the_history_says_so(people):
    proposal = close(people, severity="critical")
    with force_locale("en"):
        services.suspend_provisionally(proposal, people["officer"], reason="燃气安全隐患，先行暂停")
    db.session.commit()
    assert cert(people).effective_status().value == "suspended" and cert(people).suspended_until is None
    assert "临时暂停" in ledger_texts()[-1] and "尚未作出处理决定" in ledger_texts()[-1]
    with pytest.raises(InvalidTransition):
        services.suspend_provisionally(proposal, people["officer"], reason="再次")
    db.session.rollback()
    set_today("2026-09-30")   # no end date: it cannot run out while the proposal is pending
    assert cert(people).effective_status().value == "suspended"
    services.decide_sanction(proposal, people["officer2"], confirm=True, reason="隐患属实")
    db.session.commit()
    assert cert(people).suspended_until == dt.date(2026, 12, 30)
    kinds = db.session.scalars(select(LedgerEntry.kind).order_by(LedgerEntry.seq)).all()
    assert kinds.count("suspended") == 1 and kinds[-1] == "suspension_changed"


def test_rejecting_a_proposal_lifts_its_provisional_suspension(people):
    proposal = close(people, severity="critical")
    services.suspend_provisionally(proposal, people["officer"], reason="先行暂停")
    services.respond_to_sanction(proposal, people["company"], text="系误报")
    services.decide_sanction(proposal, people["officer2"], confirm=False, reason="证据不足")
    db.session.commit()
    assert cert(people).effective_status().value == "valid"
    assert "临时暂停已解除" in ledger_texts()[-1]


def test_a_zero_hearing_window_in_the_config_is_refused_not_applied(people):
    current_app.config["SANCTION_CRITICAL_RESPONSE_WORKDAYS"] = 0
    from registry.complaints.rules import PolicyError
    with pytest.raises(PolicyError):
        close(people, severity="critical")


def test_complaints_closed_while_a_proposal_was_pending_are_weighed_once_it_is_decided(people):
    first = close(people, severity="critical")            # proposes suspension
    assert close(people, severity="critical") is None     # not heavier: waits behind the pending one
    services.respond_to_sanction(first, people["company"], text="说明")
    services.decide_sanction(first, people["officer"], confirm=False, reason="证据不足")
    db.session.commit()
    pending = db.session.scalars(select(SanctionProposal).where(SanctionProposal.state == "proposed")).all()
    assert len(pending) == 1 and pending[0].rule_id == "critical"
    assert not set(pending[0].complaint_ids) & set(first.complaint_ids)
