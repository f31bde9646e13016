"""What the public and the consumer see: the certificate page block, the public log, the rules page."""
from __future__ import annotations

from sqlalchemy import select

from registry.complaints.models import Complaint
from registry.extensions import db
from tests.complaints.conftest import file_via_client, sign_in


def _version(app, tracking):
    with app.app_context():
        return db.session.scalar(select(Complaint.version).where(Complaint.tracking_number == tracking))


def _to_company_answer(app, client, world, tracking):
    sign_in(client, world.moderator)
    client.post(f"/complaints/case/{tracking}/accept", data={"version": _version(app, tracking)})
    sign_in(client, world.company_a)
    client.post(f"/complaints/case/{tracking}/respond",
                data={"version": _version(app, tracking), "text": "我们将于本周六上门更换压缩机。"})
    with client.session_transaction() as s:
        s.clear()


def test_consumer_reads_the_reply_and_accepts_it_and_the_certificate_page_counts_it(app, client, world):
    tracking, link = file_via_client(client, world.cert_a)
    _to_company_answer(app, client, world, tracking)
    page = client.get(link).get_data(as_text=True)
    assert "我们将于本周六上门更换压缩机" in page and "接受企业的答复" in page
    token = link.split("token=")[1]
    response = client.post(f"/complaints/{tracking}/consumer_accept",
                           data={"token": token, "version": _version(app, tracking)})
    assert response.status_code == 302
    page = client.get(link).get_data(as_text=True)
    assert "已结案" in page and "企业已解决" in page

    cert_page = client.get(f"/certificates/{world.cert_a}").get_data(as_text=True)
    assert "近 12 个月投诉情况" in cert_page and "企业已解决" in cert_page
    assert f"/complaints/new?certificate={world.cert_a}" in cert_page
    for secret in ("王小明", "13812345678", "JD20260512998877"):
        assert secret not in cert_page
    log = client.get(f"/complaints/{tracking}/log").get_data(as_text=True)
    assert "企业已答复" in log and "我们将于本周六" not in log and "王小明" not in log


def test_open_complaints_have_no_public_log(client, world):
    tracking, _link = file_via_client(client, world.cert_a)
    assert client.get(f"/complaints/{tracking}/log").status_code == 404


def test_the_consumer_can_withdraw_and_a_dispute_needs_a_reason(app, client, world):
    tracking, link = file_via_client(client, world.cert_a)
    _to_company_answer(app, client, world, tracking)
    token = link.split("token=")[1]
    response = client.post(f"/complaints/{tracking}/dispute", data={"token": token, "version": _version(app, tracking)},
                           follow_redirects=True)
    assert "请填写内容" in response.get_data(as_text=True)
    response = client.post(f"/complaints/{tracking}/withdraw", data={"token": token, "version": _version(app, tracking), "confirm": "1"},
                           follow_redirects=True)
    assert "消费者撤回" in response.get_data(as_text=True)


def test_the_published_rules_page_shows_thresholds_deadlines_and_due_process(client):
    page = client.get("/complaints/rules").get_data(as_text=True)
    assert "7 个工作日" in page and "10 个工作日" in page and "45 个工作日" in page
    assert "须进行专项审核" in page and "等级降低一级" in page and "暂停证书" in page
    assert "2026-1" in page and "结案人以外" in page


def test_the_filing_form_is_complete_in_english(client, world):
    client.get("/lang/en")
    page = client.get(f"/complaints/new?certificate={world.cert_a}").get_data(as_text=True)
    assert "File a complaint" in page and "Who sees what" in page and "Mobile number" in page


def test_purge_erases_personal_data_after_the_retention_period(app, client, world, runner):
    tracking, link = file_via_client(client, world.cert_a)
    token = link.split("token=")[1]
    client.post(f"/complaints/{tracking}/withdraw", data={"token": token, "version": _version(app, tracking), "confirm": "1"})
    app.config["REGISTRY_TODAY"] = "2029-06-02"
    assert "purged: 1" in runner.invoke(args=["complaints", "purge"]).output
    with app.app_context():
        complaint = db.session.scalar(select(Complaint).where(Complaint.tracking_number == tracking))
        assert complaint.consumer_name == "" and complaint.consumer_mobile == "" and complaint.order_number == ""
        assert "13812345678" not in complaint.description
