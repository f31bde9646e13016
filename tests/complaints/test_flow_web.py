"""The whole path through the client: file → accept → reply → dispute → mediation → upheld → proposal →
confirmation → the certificate page shows the lower level with its reason."""
from __future__ import annotations

import re

from sqlalchemy import select

from registry.complaints.models import Complaint, SanctionProposal
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from tests.complaints.conftest import file_via_client, sign_in


def _version(app, tracking):
    with app.app_context():
        return db.session.scalar(select(Complaint.version).where(Complaint.tracking_number == tracking))


def _walk_to_upheld(app, client, world, tracking, link, severity="major"):
    sign_in(client, world.moderator)
    r = client.post(f"/complaints/case/{tracking}/accept", data={"version": _version(app, tracking),
                                                                "public_summary": "空调维修两次未修好，客服不回复。"})
    assert r.status_code == 303
    sign_in(client, world.company_a)
    r = client.post(f"/complaints/case/{tracking}/respond", data={"version": _version(app, tracking),
                                                                 "text": "已安排第三次上门。", "proposal": "免费更换压缩机"})
    assert r.status_code == 303
    with client.session_transaction() as s:
        s.clear()
    token = link.split("token=")[1]
    r = client.post(f"/complaints/{tracking}/dispute", data={"token": token, "version": _version(app, tracking),
                                                            "text": "第三次也没修好，要求换货。"})
    assert r.status_code == 302
    sign_in(client, world.moderator)
    client.post(f"/complaints/case/{tracking}/mediate", data={"version": _version(app, tracking)})
    return client.post(f"/complaints/case/{tracking}/close", data={
        "version": _version(app, tracking), "outcome": "upheld", "severity": severity,
        "public_summary": "空调维修两次未修好，客服不回复。调解未达成一致。",
        **({"confirm": "1"} if severity == "critical" else {})})


def test_full_path_from_filing_to_a_confirmed_sanction_shown_on_the_certificate_page(app, client, world):
    tracking, link = file_via_client(client, world.cert_a)
    assert re.fullmatch(r"TS\d{6}-[A-Z0-9]{6}", tracking)
    page = client.get(link).get_data(as_text=True)
    assert "已收到，待审核" in page

    # Three major upheld complaints: 9 points crosses the "lower level" threshold (8).
    for i in range(3):
        if i:
            tracking, link = file_via_client(client, world.cert_a)
        response = _walk_to_upheld(app, client, world, tracking, link)
        assert response.status_code == 303
    with app.app_context():
        proposal = db.session.scalar(select(SanctionProposal).where(SanctionProposal.state == "proposed"))
        assert proposal.action == "lower_level" and proposal.rule_id == "lower-level"
        proposal_id = proposal.id

    # Another company cannot see the proposal; the company concerned can, and states its case.
    sign_in(client, world.company_b)
    assert client.get(f"/complaints/sanctions/{proposal_id}").status_code == 404
    sign_in(client, world.company_a)
    assert "提交陈述意见" in client.get(f"/complaints/sanctions/{proposal_id}").get_data(as_text=True)
    assert client.post(f"/complaints/sanctions/{proposal_id}/respond", data={"text": "我们已整改维修流程。"}).status_code == 303
    sign_in(client, world.officer)
    assert "作出决定" in client.get(f"/complaints/sanctions/{proposal_id}").get_data(as_text=True)
    with app.app_context():
        version = db.session.get(SanctionProposal, proposal_id).version
    r = client.post(f"/complaints/sanctions/{proposal_id}/decide",
                    data={"decision": "confirm", "text": "三起重大投诉成立", "version": version})
    assert r.status_code == 303

    page = client.get(f"/certificates/{world.cert_a}").get_data(as_text=True)
    assert "三星" in page and "等级降低一级" in page and "lower-level" in page
    assert "投诉成立" in page and "近 12 个月投诉情况" in page
    # The QR landing page (/v/<number>, built in the verification issue) shows the same level when present.
    verify = client.get(f"/v/{world.cert_a}")
    if verify.status_code != 404:
        assert "三星" in verify.get_data(as_text=True)
    with app.app_context():
        kinds = db.session.scalars(select(LedgerEntry.kind).order_by(LedgerEntry.seq)).all()
        assert kinds.count("complaint_outcome") == 3 and kinds[-1] == "level_changed"
        entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "level_changed"))
        assert entry.level_after == "3" and len(entry.data["complaints"]) == 3
        # No personal data went to the public ledger.
        everything = " ".join(e.public_text + e.reason for e in db.session.scalars(select(LedgerEntry)))
        assert "王小明" not in everything and "13812345678" not in everything and "JD2026" not in everything
