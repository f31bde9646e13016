"""Complaint services on a real database: counters, unanswered marks, concurrency, sanctions with due process."""
from __future__ import annotations

import datetime as dt

import pytest
from flask import current_app
from sqlalchemy import func, select

from registry.certificates.models import Certificate
from registry.complaints import services
from registry.complaints.messages import sent
from registry.complaints.models import Complaint, ComplaintMonthlyStat, SanctionProposal
from registry.errors import InvalidTransition, PermissionDenied, ValidationError
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from tests.complaints.conftest import make_user
from tests.factories import make_certificate


def make_complaint(certificate: Certificate, **overrides) -> tuple[Complaint, str]:
    values = dict(certificate_number=certificate.number, category="repair",
                  description="空调维修三次仍不制冷，客服不再回复。", purchase_date=dt.date(2026, 5, 1),
                  order_number="JD20260512998877", desired_resolution="refund", amount=None, name="李雷",
                  mobile="+8613912345678", email="", consent=True)
    values.update(overrides)
    return services.file_complaint(services.FilingData(**values))


def set_today(day: str) -> None:
    current_app.config["REGISTRY_TODAY"] = day


@pytest.fixture
def people(app_ctx):
    cert = make_certificate(level="4")
    return {"cert": cert, "moderator": make_user("moderator"), "admin": make_user("admin"),
            "officer": make_user("officer"), "officer2": make_user("officer"),
            "company": make_user("company", cert.company)}


def upheld(people, severity="major", respond=True) -> Complaint:
    complaint, _token = make_complaint(people["cert"])
    services.accept_complaint(complaint, people["moderator"])
    if respond:
        services.respond_to_complaint(complaint, people["company"], text="已处理")
    return complaint, services.close_complaint(complaint, people["moderator"], outcome="upheld", severity=severity,
                                               public_summary=None)


def test_statistics_come_from_counters_updated_in_the_same_transaction(people):
    cert = people["cert"]
    a, _ = make_complaint(cert)
    b, _ = make_complaint(cert)
    make_complaint(cert)
    services.accept_complaint(a, people["moderator"])
    services.accept_complaint(b, people["moderator"])
    services.respond_to_complaint(a, people["company"], text="已安排退款")
    services.consumer_accepts(a, services.ConsumerActor(a.id))
    db.session.commit()
    stats = services.certificate_stats(cert.id)
    assert (stats.received, stats.accepted, stats.upheld, stats.unanswered) == (3, 2, 0, 0)
    assert stats.answered_on_time_pct == 100 and stats.resolved_pct == 100
    assert db.session.scalar(select(func.count()).select_from(ComplaintMonthlyStat)) == 1


def test_a_missed_company_deadline_is_marked_unanswered_once_by_the_daily_command(app, people):
    complaint, _ = make_complaint(people["cert"])
    services.accept_complaint(complaint, people["moderator"])   # due 2026-06-15 (10 working days)
    db.session.commit()
    assert complaint.response_due_on == dt.date(2026, 6, 15)
    set_today("2026-06-16")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["complaints", "overdue"])
    assert "newly unanswered: 1" in result.output
    assert "newly unanswered: 0" in runner.invoke(args=["complaints", "overdue"]).output
    db.session.expire_all()
    stats = services.certificate_stats(people["cert"].id)
    assert stats.unanswered == 1 and stats.answered_on_time_pct == 0
    # A late answer is still recorded, but the mark stays and counts publicly.
    services.respond_to_complaint(db.session.get(Complaint, complaint.id), people["company"], text="迟到的答复")
    db.session.commit()
    assert services.certificate_stats(people["cert"].id).unanswered == 1
    assert any("unanswered" in m.subject or "未答复" in m.subject for m in sent())


def test_the_daily_registry_tick_also_marks_missed_company_deadlines(app, people):
    complaint, _ = make_complaint(people["cert"])
    services.accept_complaint(complaint, people["moderator"])   # due 2026-06-15
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["registry", "tick", "--today", "2026-06-16"])
    assert result.exit_code == 0, result.output
    assert "1 newly unanswered" in result.output
    db.session.expire_all()
    assert db.session.get(Complaint, complaint.id).unanswered


def test_an_answer_after_the_deadline_marks_unanswered_even_without_the_daily_command(people):
    complaint, _ = make_complaint(people["cert"])
    services.accept_complaint(complaint, people["moderator"])
    set_today("2026-06-17")
    services.respond_to_complaint(complaint, people["company"], text="迟到")
    db.session.commit()
    assert complaint.unanswered and services.certificate_stats(people["cert"].id).unanswered == 1


def test_two_moderators_acting_on_one_complaint_one_wins_and_nothing_is_applied_twice(people):
    complaint, _ = make_complaint(people["cert"])
    services.accept_complaint(complaint, people["moderator"])
    services.respond_to_complaint(complaint, people["company"], text="已处理")
    db.session.commit()
    seen_version = complaint.version
    services.close_complaint(complaint, people["moderator"], outcome="upheld", severity="minor", public_summary=None,
                             expected_version=seen_version)
    db.session.commit()
    with pytest.raises(InvalidTransition):
        services.close_complaint(complaint, people["admin"], outcome="not_upheld", severity=None, public_summary=None,
                                 expected_version=seen_version)
    db.session.rollback()
    outcomes = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "complaint_outcome")).all()
    assert len(outcomes) == 1 and db.session.get(Complaint, complaint.id).outcome == "upheld"


def test_a_stale_write_from_another_session_is_refused_by_the_row_version(app, people):
    complaint, _ = make_complaint(people["cert"])
    db.session.commit()
    complaint_id = complaint.id
    # A second moderator's session loaded the same row before the first one committed.
    other = db.session.session_factory()
    try:
        theirs = other.get(Complaint, complaint_id)
        assert theirs.state == "submitted"
        services.accept_complaint(complaint, people["moderator"])
        db.session.commit()
        theirs.state = "rejected"
        with pytest.raises(Exception) as error:
            other.commit()
        assert "StaleData" in type(error.value).__name__
    finally:
        other.rollback()
        other.close()
    assert db.session.get(Complaint, complaint_id).state == "accepted"


def test_closing_runs_the_rules_and_a_different_officer_confirms_the_lowered_level(people):
    for _i in range(2):
        upheld(people)
    complaint, proposal = upheld(people)
    assert proposal is not None and proposal.action == "lower_level" and proposal.points == 9
    assert len(proposal.tracking_numbers) == 3
    db.session.commit()
    # The company is told and may answer; before that (and before the window ends) no officer may decide.
    assert any("处理提议" in m.subject or "Sanction" in m.subject for m in sent())
    with pytest.raises(InvalidTransition):
        services.decide_sanction(proposal, people["officer"], confirm=True, reason="成立")
    db.session.rollback()
    services.respond_to_sanction(proposal, people["company"], text="我们已整改")
    services.decide_sanction(proposal, people["officer"], confirm=True, reason="三起重大投诉成立")
    db.session.commit()
    cert = db.session.get(Certificate, people["cert"].id)
    assert cert.level == "3"
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "level_changed"))
    assert entry.data["sanction_rule"] == "lower-level" and entry.data["complaints"] == proposal.tracking_numbers


def test_the_moderator_who_closed_the_complaint_may_not_decide_its_sanction(people):
    admin = people["admin"]
    for _i in range(3):
        complaint, _ = make_complaint(people["cert"])
        services.accept_complaint(complaint, admin)
        services.respond_to_complaint(complaint, people["company"], text="已处理")
        proposal = services.close_complaint(complaint, admin, outcome="upheld", severity="major", public_summary=None)
    services.respond_to_sanction(proposal, people["company"], text="说明")
    with pytest.raises(PermissionDenied):
        services.decide_sanction(proposal, admin, confirm=True, reason="成立")


def test_moderators_and_companies_cannot_decide_sanctions(people):
    for _i in range(3):
        _c, proposal = upheld(people)
    set_today("2026-07-01")
    for who in ("moderator", "company"):
        with pytest.raises(PermissionDenied):
            services.decide_sanction(proposal, people[who], confirm=True, reason="成立")


def test_more_closed_complaints_do_not_stack_duplicate_proposals(people):
    for _i in range(3):
        upheld(people)
    _c, again = upheld(people)   # 12 points: still "lower level", already proposed
    assert again is None
    states = db.session.scalars(select(SanctionProposal.state).order_by(SanctionProposal.id)).all()
    # 6 points proposed a special audit; 9 replaced it with the heavier "lower level"; 12 added nothing.
    assert states == ["superseded", "proposed"]


def test_complaints_counted_in_a_confirmed_sanction_do_not_count_again(people):
    for _i in range(2):
        upheld(people)
    _c, proposal = upheld(people)
    set_today("2026-06-15")
    services.decide_sanction(proposal, people["officer"], confirm=True, reason="成立")
    _c, next_one = upheld(people)
    assert next_one is None   # 3 fresh points only


def test_a_critical_upheld_complaint_proposes_suspension_decided_after_a_short_hearing(people):
    complaint, proposal = upheld(people, severity="critical")
    assert proposal.action == "suspend" and proposal.rule_id == "critical"
    set_today("2026-06-04")   # the company's two working days (06-02, 06-03) have passed
    services.decide_sanction(proposal, people["officer"], confirm=True, reason="燃气热水器安装存在安全隐患")
    db.session.commit()
    cert = db.session.get(Certificate, people["cert"].id)
    assert cert.effective_status().value == "suspended"
    assert cert.suspended_until == dt.date(2026, 9, 4)
    assert complaint.tracking_number in cert.status_reason


def test_the_company_appeals_once_and_another_officer_reverses_the_sanction(people):
    for _i in range(3):
        _c, proposal = upheld(people)
    set_today("2026-06-15")
    services.decide_sanction(proposal, people["officer"], confirm=True, reason="成立")
    services.appeal_sanction(proposal, people["company"], text="其中一起投诉为重复投诉")
    with pytest.raises(InvalidTransition):
        services.appeal_sanction(proposal, people["company"], text="再次申诉")
    with pytest.raises(PermissionDenied):
        services.decide_appeal(proposal, people["officer"], uphold=True, reason="同一人")
    services.decide_appeal(proposal, people["officer2"], uphold=True, reason="核实为重复投诉")
    db.session.commit()
    assert db.session.get(Certificate, people["cert"].id).level == "4"
    assert proposal.state == "appeal_upheld"


def test_a_rejected_proposal_changes_nothing(people):
    for _i in range(3):
        _c, proposal = upheld(people)
    set_today("2026-06-15")
    services.decide_sanction(proposal, people["officer"], confirm=False, reason="证据不足")
    db.session.commit()
    assert db.session.get(Certificate, people["cert"].id).level == "4"
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "level_changed")) == 0


def test_lowering_at_the_bottom_of_the_ladder_becomes_suspension(people):
    people["cert"].level = "compliant"
    for _i in range(3):
        _c, proposal = upheld(people)
    assert proposal.action == "suspend"


def test_withdrawal_closes_without_weight_and_goes_to_the_ledger(people):
    complaint, _ = make_complaint(people["cert"])
    services.withdraw_complaint(complaint, services.ConsumerActor(complaint.id))
    db.session.commit()
    assert complaint.outcome == "withdrawn"
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "complaint_outcome"))
    assert entry.actor_role == "consumer" and "李雷" not in entry.public_text


def test_asking_for_information_stops_the_clock_until_the_consumer_answers(people):
    complaint, _ = make_complaint(people["cert"])
    services.request_information(complaint, people["moderator"], text="请上传发票照片")
    assert complaint.state == "awaiting_info" and complaint.due_on is None
    set_today("2026-06-05")
    services.add_information(complaint, services.ConsumerActor(complaint.id), text="发票已补充")
    # Seven working days from Friday 06-05: 8, 9, 10, 11, 12, 15, 16.
    assert complaint.state == "submitted" and complaint.due_on == dt.date(2026, 6, 16)


def test_a_consumer_cannot_act_on_someone_elses_complaint(people):
    mine, _ = make_complaint(people["cert"])
    theirs, _ = make_complaint(people["cert"])
    with pytest.raises(PermissionDenied):
        services.withdraw_complaint(theirs, services.ConsumerActor(mine.id))


def test_a_summary_with_personal_data_is_refused_naming_what_was_found(people):
    complaint, _ = make_complaint(people["cert"], description="我是李雷，手机13912345678，订单JD20260512998877，维修拖了一个月。")
    services.accept_complaint(complaint, people["moderator"])
    services.respond_to_complaint(complaint, people["company"], text="已处理")
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        services.close_complaint(complaint, people["moderator"], outcome="not_upheld", severity=None,
                                 public_summary="李雷反映维修拖延，电话13912345678，订单JD20260512998877。")
    db.session.rollback()
    assert "李雷" in refused.value.message and "13912345678" in refused.value.message
    assert db.session.get(type(complaint), complaint.id).state == "responded"   # nothing was applied


def test_public_summaries_are_composed_from_structured_fields_not_the_consumers_words(people):
    complaint, _ = make_complaint(people["cert"], description="我是李雷，手机13912345678，订单JD20260512998877，维修拖了一个月。")
    services.accept_complaint(complaint, people["moderator"])
    services.respond_to_complaint(complaint, people["company"], text="已处理")
    services.close_complaint(complaint, people["moderator"], outcome="not_upheld", severity=None,
                             public_summary="维修拖延约一个月，企业已解释原因。")
    db.session.commit()
    [summary] = services.public_summaries(people["cert"].id)
    assert summary.text == "维修拖延约一个月，企业已解释原因。"
    assert "李雷" not in summary.text and "维修拖了一个月" not in summary.text


def test_a_stored_summary_that_fails_the_detector_is_withheld(people):
    complaint, _ = make_complaint(people["cert"])
    services.accept_complaint(complaint, people["moderator"])
    services.close_complaint(complaint, people["moderator"], outcome="not_upheld", severity=None, public_summary=None)
    complaint.public_summary = "旧摘要：地址世纪大道8899号"   # written before the check existed
    db.session.commit()
    [summary] = services.public_summaries(people["cert"].id)
    assert summary.text == ""


def test_two_officers_deciding_one_proposal_at_once_apply_it_once(people):
    for _i in range(3):
        _c, proposal = upheld(people)
    set_today("2026-06-15")
    db.session.commit()
    seen = proposal.version
    services.decide_sanction(proposal, people["officer"], confirm=True, reason="成立", expected_version=seen)
    db.session.commit()
    with pytest.raises(InvalidTransition):
        services.decide_sanction(proposal, people["officer2"], confirm=True, reason="也成立", expected_version=seen)
    db.session.rollback()
    changes = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "level_changed")).all()
    assert len(changes) == 1 and db.session.get(Certificate, people["cert"].id).level == "3"


def test_two_moderators_closing_at_the_same_moment_in_two_threads_apply_one_outcome(app, people):
    import threading

    complaint, _ = make_complaint(people["cert"])
    services.accept_complaint(complaint, people["moderator"])
    services.respond_to_complaint(complaint, people["company"], text="已处理")
    db.session.commit()
    complaint_id, actors = complaint.id, [people["moderator"].id, people["admin"].id]
    barrier, results = threading.Barrier(2), []

    def close(user_id, outcome):
        from registry.accounts.models import User
        with app.app_context():
            try:
                mine = db.session.get(Complaint, complaint_id)
                actor = db.session.get(User, user_id)
                barrier.wait(timeout=10)
                services.close_complaint(mine, actor, outcome=outcome, severity="minor", public_summary=None)
                db.session.commit()
                results.append("won")
            except InvalidTransition:
                results.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=close, args=(actors[0], "upheld")),
               threading.Thread(target=close, args=(actors[1], "not_upheld"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["refused", "won"]
    db.session.expire_all()
    outcomes = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "complaint_outcome")).all()
    assert len(outcomes) == 1
    assert db.session.scalar(select(func.sum(ComplaintMonthlyStat.closed))) == 1


def test_demo_complaints_go_through_the_services(people):
    from registry.complaints.demo import seed_demo_complaints
    certs = [people["cert"]] * 4
    count = seed_demo_complaints(certs, people["moderator"], {people["cert"].company_id: people["company"]})
    db.session.commit()
    assert count == db.session.scalar(select(func.count()).select_from(Complaint)) > 0
    assert services.certificate_stats(people["cert"].id).received == count


def test_a_complaint_filed_before_the_spring_festival_is_due_on_the_make_up_saturday(people):
    set_today("2026-02-12")
    complaint, _ = make_complaint(people["cert"], purchase_date=dt.date(2026, 2, 1))
    # Thu 02-12 → 13, Sat 14 (make-up), [15–23 holiday], 24, 25, 26, 27, Sat 28 (make-up) = 7 working days.
    assert complaint.due_on == dt.date(2026, 2, 28) and complaint.due_estimated is False


def test_a_deadline_in_a_year_the_calendar_does_not_know_is_provisional_and_shown_so(app, client, people):
    from registry.complaints import calendar
    last_known = max(y for y in range(2026, 2100) if calendar.calendar_knows(y))
    set_today(f"{last_known}-12-28")
    complaint, token = make_complaint(people["cert"])
    db.session.commit()
    assert complaint.due_on.year == last_known + 1 and complaint.due_estimated is True
    page = client.get(f"/complaints/{complaint.tracking_number}?token={token}").get_data(as_text=True)
    assert "暂定" in page
