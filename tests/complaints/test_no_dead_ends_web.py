"""No dead ends for the consumer: next steps after a rejection, the consumer's time to reply before a
moderator closes, confirmations for destructive actions."""
from __future__ import annotations

from sqlalchemy import select

from registry.complaints.messages import sent
from registry.complaints.models import Complaint
from registry.extensions import db
from tests.complaints.conftest import file_via_client, sign_in


def _version(app, tracking):
    with app.app_context():
        return db.session.scalar(select(Complaint.version).where(Complaint.tracking_number == tracking))


def _state(app, tracking):
    with app.app_context():
        return db.session.scalar(select(Complaint.state).where(Complaint.tracking_number == tracking))


def _answered(app, client, world, tracking):
    sign_in(client, world.moderator)
    client.post(f"/complaints/case/{tracking}/accept", data={"version": _version(app, tracking)})
    sign_in(client, world.company_a)
    client.post(f"/complaints/case/{tracking}/respond", data={"version": _version(app, tracking), "text": "已安排更换。"})
    sign_in(client, world.moderator)


def test_a_rejected_complaint_says_what_the_consumer_can_do_next(app, client, world):
    tracking, link = file_via_client(client, world.cert_a)
    sign_in(client, world.moderator)
    client.post(f"/complaints/case/{tracking}/reject", data={"version": _version(app, tracking), "reason": "not_after_sales"})
    page = client.get(link).get_data(as_text=True)
    assert "12315" in page
    assert any("12315" in m.body for m in sent(app) if m.channel == "sms")


def test_rejected_for_missing_information_offers_to_file_again(app, client, world):
    tracking, link = file_via_client(client, world.cert_a)
    sign_in(client, world.moderator)
    client.post(f"/complaints/case/{tracking}/reject",
                data={"version": _version(app, tracking), "reason": "insufficient_information"})
    page = client.get(link).get_data(as_text=True)
    assert f"/complaints/new?certificate={world.cert_a}" in page and "补充" in page


def test_a_moderator_cannot_close_an_answered_complaint_before_the_consumers_time_without_a_reason(app, client, world):
    app.config["COMPLAINT_CONSUMER_CHOICE_WORKDAYS"] = 5
    tracking, link = file_via_client(client, world.cert_a)
    _answered(app, client, world, tracking)
    page = client.get(f"/complaints/case/{tracking}").get_data(as_text=True)
    assert "2026-06-08" in page   # answered Mon 06-01: five working days
    page = client.post(f"/complaints/case/{tracking}/close", data={"version": _version(app, tracking), "outcome": "resolved_by_company"},
                       follow_redirects=True).get_data(as_text=True)
    assert _state(app, tracking) == "responded" and "2026-06-08" in page
    client.post(f"/complaints/case/{tracking}/close", data={"version": _version(app, tracking), "outcome": "resolved_by_company",
                                                             "early_reason": "消费者来电确认已更换，同意结案。"})
    assert _state(app, tracking) == "closed"
    assert "消费者来电确认已更换，同意结案。" in client.get(link).get_data(as_text=True)


def test_after_the_consumers_time_the_moderator_closes_without_a_reason(app, client, world):
    app.config["COMPLAINT_CONSUMER_CHOICE_WORKDAYS"] = 5
    tracking, _link = file_via_client(client, world.cert_a)
    _answered(app, client, world, tracking)
    app.config["REGISTRY_TODAY"] = "2026-06-09"
    client.post(f"/complaints/case/{tracking}/close", data={"version": _version(app, tracking), "outcome": "resolved_by_company"})
    assert _state(app, tracking) == "closed"


def test_withdrawing_needs_the_confirmation_box(app, client, world):
    tracking, link = file_via_client(client, world.cert_a)
    token = link.split("token=")[1]
    page = client.get(link).get_data(as_text=True)
    assert 'name="confirm"' in page
    client.post(f"/complaints/{tracking}/withdraw", data={"token": token, "version": _version(app, tracking)})
    assert _state(app, tracking) == "submitted"
    client.post(f"/complaints/{tracking}/withdraw", data={"token": token, "version": _version(app, tracking), "confirm": "1"})
    assert _state(app, tracking) == "closed"


def test_closing_as_critical_upheld_needs_the_confirmation_box(app, client, world):
    tracking, _link = file_via_client(client, world.cert_a)
    _answered(app, client, world, tracking)
    data = {"outcome": "upheld", "severity": "critical"}
    client.post(f"/complaints/case/{tracking}/close", data={"version": _version(app, tracking), **data})
    assert _state(app, tracking) == "responded"
    client.post(f"/complaints/case/{tracking}/close", data={"version": _version(app, tracking), "confirm": "1", **data})
    assert _state(app, tracking) == "closed"


def test_the_consumer_is_told_until_when_to_accept_or_dispute(app, client, world):
    app.config["COMPLAINT_CONSUMER_CHOICE_WORKDAYS"] = 5
    tracking, link = file_via_client(client, world.cert_a)
    _answered(app, client, world, tracking)
    page = client.get(link).get_data(as_text=True)
    assert "2026-06-08" in page and "请在" in page
