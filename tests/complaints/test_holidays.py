"""Holidays the operator enters: the CLI, deadlines before and after a 2027 schedule, provisional wording,
the tick and provisional deadlines, recomputation lifting a wrong unanswered mark, the warnings."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from registry.complaints import calendar, services
from registry.complaints.messages import sent
from registry.complaints.models import Complaint, ComplaintEvent, ComplaintMonthlyStat, HolidayDay
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from tests.complaints.conftest import file_via_client, sign_in
from tests.conftest import close_app, make_app

SCHEDULE_2027 = "date,kind\n2027-01-01,holiday\n2027-02-06,workday\n2027-02-10,holiday\n2027-02-11,holiday\n"


def _load(runner, tmp_path, text=SCHEDULE_2027):
    path = tmp_path / "holidays.csv"
    path.write_text(text, encoding="utf-8")
    return runner.invoke(args=["holidays", "load", str(path)])


def _complaint(app, tracking):
    return db.session.scalar(select(Complaint).where(Complaint.tracking_number == tracking))


def _accept(app, client, world, tracking):
    sign_in(client, world.moderator)
    with app.app_context():
        version = _complaint(app, tracking).version
    client.post(f"/complaints/case/{tracking}/accept", data={"version": version})
    with client.session_transaction() as s:
        s.clear()


def test_a_malformed_file_is_refused_whole_with_line_numbers(app, runner, tmp_path):
    result = _load(runner, tmp_path, "date,kind\n2027-01-01,holiday\n2027-13-01,holiday\n2027-01-02,party\n"
                                     "2027-01-04,workday\n2027-01-01,holiday\n")
    assert result.exit_code != 0
    for line in ("line 3", "line 4", "line 5", "line 6"):
        assert line in result.output
    with app.app_context():
        assert db.session.scalar(select(HolidayDay).limit(1)) is None


def test_show_tells_where_a_year_comes_from(app, runner, tmp_path):
    assert "2026: package" in runner.invoke(args=["holidays", "show", "2026"]).output
    assert "provisional" in runner.invoke(args=["holidays", "show", "2027"]).output
    assert _load(runner, tmp_path).exit_code == 0
    output = runner.invoke(args=["holidays", "show", "2027"]).output
    assert "2027: entered" in output and "2027-01-01,holiday" in output and "2027-02-06,workday" in output


def test_before_the_schedule_the_deadlines_are_provisional_in_pages_sms_and_email(app, client, world):
    app.config["REGISTRY_TODAY"] = "2026-12-24"
    tracking, link = file_via_client(client, world.cert_a)
    page = client.get(link).get_data(as_text=True)
    assert "2027-01-04" in page and "暂定" in page
    _accept(app, client, world, tracking)
    assert "2027-01-07" in client.get(link).get_data(as_text=True)
    accepted = [m for m in sent(app) if "2027-01-07" in m.body]
    assert {m.channel for m in accepted} == {"sms", "email"}
    assert all("暂定" in m.body for m in accepted)
    with app.app_context():
        event = db.session.scalar(select(ComplaintEvent).where(ComplaintEvent.action == "accept"))
        assert "2027-01-07" in event.public_text and "暂定" in event.public_text


def test_with_new_year_a_holiday_filed_on_24_december_is_due_on_5_january_and_answered_by_8_january(
        app, client, runner, world, tmp_path):
    assert _load(runner, tmp_path).exit_code == 0
    app.config["REGISTRY_TODAY"] = "2026-12-24"
    tracking, link = file_via_client(client, world.cert_a)
    page = client.get(link).get_data(as_text=True)
    assert "2027-01-05" in page and "2027-01-04" not in page and "暂定" not in page
    _accept(app, client, world, tracking)
    page = client.get(link).get_data(as_text=True)
    assert "2027-01-08" in page and "暂定" not in page
    accepted = [m for m in sent(app) if "2027-01-08" in m.body]
    assert {m.channel for m in accepted} == {"sms", "email"}
    assert not any("2027-01-07" in m.body for m in sent(app))
    sign_in(client, world.company_a)
    assert "2027-01-08" in client.get(f"/complaints/case/{tracking}").get_data(as_text=True)


def test_loading_the_schedule_recomputes_open_deadlines_and_writes_an_event(app, client, runner, world, tmp_path):
    app.config["REGISTRY_TODAY"] = "2026-12-24"
    waiting, link = file_via_client(client, world.cert_a)
    answered, _link = file_via_client(client, world.cert_a)
    _accept(app, client, world, answered)
    result = _load(runner, tmp_path)
    assert result.exit_code == 0 and "deadlines changed: 2" in result.output
    with app.app_context():
        assert _complaint(app, waiting).due_on == dt.date(2027, 1, 5)
        complaint = _complaint(app, answered)
        assert complaint.due_on == complaint.response_due_on == dt.date(2027, 1, 8)
        assert not complaint.due_estimated
    page = client.get(link).get_data(as_text=True)
    assert "2027-01-04" in page and "2027-01-05" in page   # the log says from which date to which


def test_the_tick_never_marks_unanswered_on_a_provisional_deadline(app, client, world):
    app.config["REGISTRY_TODAY"] = "2026-12-24"
    tracking, _link = file_via_client(client, world.cert_a)
    _accept(app, client, world, tracking)
    with app.app_context():
        report = services.mark_overdue(dt.date(2027, 1, 8))
        db.session.commit()
        assert report.newly_unanswered == 0 and report.awaiting_confirmation == 1
        assert not _complaint(app, tracking).unanswered
    app.config["REGISTRY_TODAY"] = "2027-01-08"
    sign_in(client, world.moderator)
    page = client.get(f"/complaints/case/{tracking}").get_data(as_text=True)
    assert "confirm_unanswered" in page


def test_recomputation_lifts_a_wrong_unanswered_mark_and_corrects_the_counters(app, client, runner, world, tmp_path):
    app.config["REGISTRY_TODAY"] = "2026-12-24"
    tracking, _link = file_via_client(client, world.cert_a)
    _accept(app, client, world, tracking)
    app.config["REGISTRY_TODAY"] = "2027-01-08"   # a weekends-only count says the deadline was 01-07
    sign_in(client, world.moderator)
    with app.app_context():
        version = _complaint(app, tracking).version
    client.post(f"/complaints/case/{tracking}/confirm_unanswered", data={"version": version})
    with app.app_context():
        complaint = _complaint(app, tracking)
        assert complaint.unanswered
        company = db.session.get(type(complaint.certificate.company), complaint.company_id)
        from registry.accounts.models import User
        user = db.session.scalar(select(User).where(User.company_id == company.id))
        services.respond_to_complaint(complaint, user, text="已安排上门维修。")
        services.close_complaint(complaint, db.session.get(User, world.moderator), outcome="upheld",
                                 severity="minor", public_summary=None)
        db.session.commit()
    assert _load(runner, tmp_path).exit_code == 0
    with app.app_context():
        complaint = _complaint(app, tracking)
        assert not complaint.unanswered and complaint.response_due_on == dt.date(2027, 1, 8)
        events = [e.action for e in complaint.events]
        assert "unanswered_lifted" in events
        stats = db.session.scalars(select(ComplaintMonthlyStat)).all()
        assert sum(s.unanswered for s in stats) == 0 and sum(s.answered_on_time for s in stats) == 1
        assert sum(s.answered_late for s in stats) == 0
        corrections = [e for e in db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "complaint_outcome"))
                       if (e.data or {}).get("correction") == "unanswered_lifted"]
        assert len(corrections) == 1
    log = client.get(f"/complaints/{tracking}/log").get_data(as_text=True)
    assert "未答复" in log and "撤销" in log


def test_an_entered_schedule_is_seen_by_another_process_at_once(app, runner, tmp_path):
    other = make_app(tmp_path, "sqlite") if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else None
    if other is None:
        return
    try:
        with other.app_context():
            assert calendar.is_workday(dt.date(2027, 1, 1))   # weekends only: a Friday
        assert _load(runner, tmp_path).exit_code == 0
        with other.app_context():
            assert not calendar.is_workday(dt.date(2027, 1, 1))
            assert calendar.calendar_knows(2027)
    finally:
        close_app(other, tmp_path)


def test_healthz_and_the_office_dashboard_warn_from_1_november_when_next_year_is_unknown(app, client, runner, tmp_path,
                                                                                          world):
    app.config["REGISTRY_TODAY"] = "2026-10-31"
    assert client.get("/healthz").get_json()["checks"]["holidays"]["status"] == "ok"
    app.config["REGISTRY_TODAY"] = "2026-11-01"
    check = client.get("/healthz").get_json()["checks"]["holidays"]
    assert check["status"] == "warning" and check["unknown_year"] == 2027
    from tests.complaints.conftest import make_user
    with app.app_context():
        admin = make_user("admin")
        db.session.commit()
        admin_id = admin.id
    sign_in(client, admin_id)
    assert "2027" in client.get("/office").get_data(as_text=True)
    assert _load(runner, tmp_path).exit_code == 0
    assert client.get("/healthz").get_json()["checks"]["holidays"]["status"] == "ok"


def test_no_deadline_falls_on_an_entered_holiday_and_provisional_means_unknown(app, runner, tmp_path):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from registry.complaints import rules

    def check(loaded: bool):
        @settings(max_examples=60, deadline=None)
        @given(start=st.dates(dt.date(2026, 11, 1), dt.date(2027, 3, 31)), workdays=st.sampled_from([5, 7, 10, 45]))
        def prop(start, workdays):
            with app.app_context():
                due = rules.add_workdays(start, workdays, calendar.is_workday)
                assert calendar.is_workday(due)
                if loaded:
                    assert due not in (dt.date(2027, 1, 1), dt.date(2027, 2, 10), dt.date(2027, 2, 11))
                assert calendar.is_provisional(start, due) == (not loaded and due.year == 2027)
        prop()

    check(loaded=False)
    assert _load(runner, tmp_path).exit_code == 0
    check(loaded=True)


def test_a_changed_schedule_moves_the_deadlines_again(app, client, runner, world, tmp_path):
    app.config["REGISTRY_TODAY"] = "2026-12-24"
    tracking, _link = file_via_client(client, world.cert_a)
    _accept(app, client, world, tracking)
    assert _load(runner, tmp_path).exit_code == 0
    assert _load(runner, tmp_path, SCHEDULE_2027 + "2027-01-04,holiday\n").exit_code == 0
    with app.app_context():
        assert _complaint(app, tracking).response_due_on == dt.date(2027, 1, 11)
        assert [e.action for e in _complaint(app, tracking).events].count("deadline_changed") == 2


def test_an_answer_counted_late_on_a_weekends_only_deadline_becomes_on_time(app, client, runner, world, tmp_path):
    app.config["REGISTRY_TODAY"] = "2026-12-24"
    tracking, _link = file_via_client(client, world.cert_a)
    _accept(app, client, world, tracking)
    app.config["REGISTRY_TODAY"] = "2027-01-08"
    sign_in(client, world.company_a)
    with app.app_context():
        version = _complaint(app, tracking).version
    client.post(f"/complaints/case/{tracking}/respond", data={"version": version, "text": "已安排上门。"})
    with app.app_context():
        assert not _complaint(app, tracking).unanswered   # provisional: no mark without a moderator
        assert sum(s.answered_late for s in db.session.scalars(select(ComplaintMonthlyStat))) == 1
    assert _load(runner, tmp_path).exit_code == 0
    with app.app_context():
        stats = db.session.scalars(select(ComplaintMonthlyStat)).all()
        assert sum(s.answered_late for s in stats) == 0 and sum(s.answered_on_time for s in stats) == 1
