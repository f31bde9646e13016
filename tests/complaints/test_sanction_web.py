"""Sanction due process through the pages: the hearing window, a provisional suspension decided on the
officer's page, the appeal deadline, and the published rules on /complaints/rules and /policy."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select

from registry.certificates.models import Certificate
from registry.complaints.models import SanctionProposal
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from tests.complaints.conftest import file_via_client, sign_in
from tests.complaints.test_flow_web import _walk_to_upheld
from tests.conftest import make_app


def _critical_proposal(app, client, world) -> int:
    tracking, link = file_via_client(client, world.cert_a)
    assert _walk_to_upheld(app, client, world, tracking, link, severity="critical").status_code == 303
    with app.app_context():
        proposal = db.session.scalar(select(SanctionProposal).where(SanctionProposal.state == "proposed"))
        assert proposal.rule_id == "critical" and proposal.respond_by == dt.date(2026, 6, 3)
        return proposal.id


def _version(app, proposal_id):
    with app.app_context():
        return db.session.get(SanctionProposal, proposal_id).version


def test_an_officer_suspends_provisionally_from_the_proposal_page_and_the_public_history_says_so(app, client, world):
    proposal_id = _critical_proposal(app, client, world)
    sign_in(client, world.officer)
    page = client.get(f"/complaints/sanctions/{proposal_id}").get_data(as_text=True)
    assert "临时暂停" in page and "2026-06-03" in page and "严重投诉：陈述期限较短" in page
    # Deciding before the company has been heard is refused; the page says until when.
    r = client.post(f"/complaints/sanctions/{proposal_id}/decide",
                    data={"decision": "confirm", "text": "安全隐患", "version": _version(app, proposal_id)})
    assert r.status_code != 500
    with app.app_context():
        assert db.session.get(SanctionProposal, proposal_id).state == "proposed"
    # An empty reason changes nothing and says why.
    r = client.post(f"/complaints/sanctions/{proposal_id}/provisional", data={"text": "", "version": _version(app, proposal_id)})
    assert r.status_code == 303
    with app.app_context():
        assert db.session.get(Certificate, world.cert_a_id).status == "valid"
    r = client.post(f"/complaints/sanctions/{proposal_id}/provisional",
                    data={"text": "燃气热水器存在安全隐患，先行暂停", "version": _version(app, proposal_id)})
    assert r.status_code == 303
    with client.session_transaction() as s:
        s.clear()
    public = client.get(f"/certificates/{world.cert_a}").get_data(as_text=True)
    assert "暂停" in public and "经认证人员决定临时暂停证书" in public and "尚未作出处理决定" in public
    with app.app_context():
        entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "suspended"))
        assert entry.data["provisional"] is True and entry.data["proposal"] == proposal_id


def test_the_company_sees_its_hearing_window_and_after_an_appeal_the_decision_deadline(app, client, world):
    proposal_id = _critical_proposal(app, client, world)
    sign_in(client, world.company_a)
    assert "2026-06-03" in client.get("/complaints/mine").get_data(as_text=True)
    client.post(f"/complaints/sanctions/{proposal_id}/respond", data={"text": "已停止该型号安装并排查。"})
    sign_in(client, world.officer)
    client.post(f"/complaints/sanctions/{proposal_id}/decide",
                data={"decision": "confirm", "text": "隐患属实", "version": _version(app, proposal_id)})
    sign_in(client, world.company_a)
    assert client.post(f"/complaints/sanctions/{proposal_id}/appeal", data={"text": "隐患系第三方造成。"}).status_code == 303
    with app.app_context():
        due = db.session.get(SanctionProposal, proposal_id).appeal_decide_by.isoformat()
    assert due in client.get("/complaints/mine").get_data(as_text=True)
    page = client.get(f"/complaints/sanctions/{proposal_id}").get_data(as_text=True)
    assert "申诉决定期限" in page and due in page and "不会因到期而转为撤销" in page


def test_the_published_rules_state_the_hearing_windows_and_the_appeal_deadline(client):
    for path in ("/complaints/rules", "/policy"):
        page = client.get(path).get_data(as_text=True)
        assert "企业可在 5 个工作日内陈述意见；严重投诉为 2 个工作日" in page, path
        assert "在 10 个工作日内作出决定" in page and "临时暂停" in page, path
        assert "成立的严重投诉" in page and "部分成立的严重投诉只计其分值" in page, path


def test_the_published_rules_follow_the_configured_working_days(tmp_path):
    import shutil
    app = make_app(tmp_path, SANCTION_RESPONSE_WORKDAYS=7, SANCTION_CRITICAL_RESPONSE_WORKDAYS=3,
                   SANCTION_APPEAL_DECIDE_WORKDAYS=15)
    page = app.test_client().get("/complaints/rules", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "within 7 working days; for a critical complaint within 3 working days" in page
    assert "decides within 15 working days" in page
    with app.app_context():
        assert current_app.config["SANCTION_APPEAL_DECIDE_WORKDAYS"] == 15
    shutil.rmtree(tmp_path / "search_index", ignore_errors=True)
