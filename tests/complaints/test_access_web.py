"""Who sees what: a company only its own forwarded complaints, a private link only its own complaint."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from registry.complaints.models import Complaint, ComplaintAttachment
from registry.extensions import db
from tests.complaints.conftest import file_via_client, filing_form, png_bytes, sign_in


def _accept(app, client, world, tracking):
    sign_in(client, world.moderator)
    with app.app_context():
        version = db.session.scalar(select(Complaint.version).where(Complaint.tracking_number == tracking))
    assert client.post(f"/complaints/case/{tracking}/accept", data={"version": version}).status_code == 303


def test_company_b_cannot_reach_company_a_complaint_by_guessing(app, client, world):
    tracking, _link = file_via_client(client, world.cert_a)
    _accept(app, client, world, tracking)
    sign_in(client, world.company_b)
    assert client.get(f"/complaints/case/{tracking}").status_code == 404
    assert client.post(f"/complaints/case/{tracking}/respond", data={"text": "冒充答复"}).status_code == 404
    listing = client.get("/complaints/mine").get_data(as_text=True)
    assert tracking not in listing


def test_attachments_are_served_to_the_own_company_only(app, client, world):
    data = filing_form(world.cert_a)
    data["attachments"] = [(io.BytesIO(png_bytes()), "broken.png")]
    response = client.post("/complaints/new", data=data, content_type="multipart/form-data")
    tracking = response.headers["Location"].rsplit("/", 1)[1]
    _accept(app, client, world, tracking)
    with app.app_context():
        attachment_id = db.session.scalar(select(ComplaintAttachment.id))
    sign_in(client, world.company_b)
    assert client.get(f"/complaints/attachments/{attachment_id}").status_code == 404
    sign_in(client, world.company_a)
    response = client.get(f"/complaints/attachments/{attachment_id}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_company_a_sees_its_complaint_only_after_acceptance_with_contact_details(app, client, world):
    tracking, _link = file_via_client(client, world.cert_a)
    sign_in(client, world.company_a)
    assert client.get(f"/complaints/case/{tracking}").status_code == 404
    assert tracking not in client.get("/complaints/mine").get_data(as_text=True)
    _accept(app, client, world, tracking)
    sign_in(client, world.company_a)
    page = client.get(f"/complaints/case/{tracking}").get_data(as_text=True)
    assert "王小明" in page and "+8613812345678" in page and "JD20260512998877" in page
    assert tracking in client.get("/complaints/mine").get_data(as_text=True)


def test_company_never_sees_the_consumer_email(app, client, world):
    tracking, _link = file_via_client(client, world.cert_a, email="wxm@example.com")
    _accept(app, client, world, tracking)
    sign_in(client, world.company_a)
    assert "wxm@example.com" not in client.get(f"/complaints/case/{tracking}").get_data(as_text=True)


def test_a_private_link_needs_its_own_token(app, client, world):
    first, first_link = file_via_client(client, world.cert_a)
    second, second_link = file_via_client(client, world.cert_b)
    first_token = first_link.split("token=")[1]
    assert client.get(first_link).status_code == 200
    assert client.get(f"/complaints/{first}").status_code == 404
    assert client.get(f"/complaints/{first}?token=guess").status_code == 404
    assert client.get(f"/complaints/{second}?token={first_token}").status_code == 404
    # Acting with the wrong token changes nothing.
    response = client.post(f"/complaints/{second}/withdraw", data={"token": first_token})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Complaint.state).where(Complaint.tracking_number == second)) == "submitted"


def test_a_company_account_cannot_moderate(app, client, world):
    tracking, _link = file_via_client(client, world.cert_a)
    sign_in(client, world.company_a)
    assert client.get("/complaints/queue").status_code == 403
    assert client.post(f"/complaints/case/{tracking}/accept", data={}).status_code == 404   # not forwarded: unseen


def test_anonymous_visitors_are_sent_to_login_for_staff_pages(app, client, world):
    if "accounts.login" not in app.view_functions:
        pytest.skip("the login page comes with the accounts issue")
    response = client.get("/complaints/queue")
    assert response.status_code in (302, 401)


def test_moderator_queue_filters_by_state_overdue_and_certificate(app, client, world):
    a, _ = file_via_client(client, world.cert_a)
    b, _ = file_via_client(client, world.cert_b)
    sign_in(client, world.moderator)
    page = client.get("/complaints/queue").get_data(as_text=True)
    assert a in page and b in page
    page = client.get("/complaints/queue", query_string={"certificate": world.cert_b}).get_data(as_text=True)
    assert a not in page and b in page
    assert a not in client.get("/complaints/queue?overdue=1").get_data(as_text=True)
    app.config["REGISTRY_TODAY"] = "2026-06-11"   # 7 working days from 06-01 end on 06-10
    page = client.get("/complaints/queue?overdue=1").get_data(as_text=True)
    assert a in page and "已逾期" in page
    assert a not in client.get("/complaints/queue?state=accepted").get_data(as_text=True)


def test_company_evidence_reaches_the_consumer_but_not_another_company(app, client, world):
    tracking, link = file_via_client(client, world.cert_a)
    _accept(app, client, world, tracking)
    sign_in(client, world.company_a)
    with app.app_context():
        version = db.session.scalar(select(Complaint.version).where(Complaint.tracking_number == tracking))
    response = client.post(f"/complaints/case/{tracking}/respond", content_type="multipart/form-data",
                           data={"version": version, "text": "附上维修记录。", "proposal": "免费换新",
                                 "attachments": [(io.BytesIO(png_bytes()), "repair-record.png")]})
    assert response.status_code == 303
    with client.session_transaction() as s:
        s.clear()
    page = client.get(link).get_data(as_text=True)
    assert "repair-record.png" in page and "免费换新" in page
    with app.app_context():
        attachment_id = db.session.scalar(select(ComplaintAttachment.id))
    token = link.split("token=")[1]
    assert client.get(f"/complaints/attachments/{attachment_id}?token={token}").status_code == 200
    sign_in(client, world.company_b)
    assert client.get(f"/complaints/attachments/{attachment_id}").status_code == 404


def test_a_lost_link_is_sent_again_to_the_mobile_and_the_old_one_stops_working(app, client, world):
    from registry.complaints.messages import sent
    tracking, old_link = file_via_client(client, world.cert_a)
    response = client.post("/complaints/link", data={"mobile": "138 1234 5678"}, follow_redirects=True)
    assert "新的专属链接" in response.get_data(as_text=True)
    [message] = [m for m in sent(app) if "/complaints/" in m.body and m.body != sent(app)[0].body]
    assert message.channel == "sms" and message.to == "+8613812345678"
    new_link = message.body.split("https://registry.test")[1].strip()
    assert client.get(new_link).status_code == 200
    assert client.get(old_link).status_code == 404


def test_an_unknown_mobile_gets_the_same_answer_and_no_message(app, client, world):
    from registry.complaints.messages import sent
    known = client.post("/complaints/link", data={"mobile": "13900009999"}, follow_redirects=True).get_data(as_text=True)
    assert "新的专属链接" in known and sent(app) == []


def test_resending_links_is_rate_limited(tmp_path):
    from tests.conftest import make_app
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, COMPLAINT_LINK_RESEND_RATE_LIMIT="2 per hour")
    from registry.extensions import limiter
    with app.app_context():
        limiter.reset()
    client = app.test_client()
    codes = [client.post("/complaints/link", data={"mobile": "13900009999"}).status_code for _i in range(3)]
    assert codes == [302, 302, 429]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_moderator_queue_shows_company_category_age_deadline_and_filters_and_sorts(app, client, world):
    a, _ = file_via_client(client, world.cert_a, category="delivery")
    app.config["REGISTRY_TODAY"] = "2026-06-03"
    b, _ = file_via_client(client, world.cert_b, category="repair")
    sign_in(client, world.moderator)
    with app.app_context():
        from registry.certificates.models import Certificate
        name_a = db.session.scalar(select(Certificate).where(Certificate.number == world.cert_a)).company.name
    page = client.get("/complaints/queue").get_data(as_text=True)
    assert name_a in page and "配送" in page and "2026-06-10" in page and "2026-06-12" in page
    assert page.index(a) < page.index(b)                 # soonest deadline first
    page = client.get("/complaints/queue", query_string={"sort": "newest"}).get_data(as_text=True)
    assert page.index(b) < page.index(a)
    page = client.get("/complaints/queue", query_string={"category": "repair"}).get_data(as_text=True)
    assert a not in page and b in page
    page = client.get("/complaints/queue", query_string={"company": name_a[:4]}).get_data(as_text=True)
    assert a in page
    page = client.get("/complaints/queue", query_string={"min_age": "2"}).get_data(as_text=True)
    assert a in page and b not in page
    assert client.get("/complaints/queue", query_string={"min_age": "abc", "sort": "x"}).status_code == 200
