"""Surveillance, recertification and special audits; suspend, restore, revoke, withdraw; editing public details."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from registry.certificates.models import Certificate
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from tests.factories import make_certificate, make_company
from tests.office.helpers import SCORE_85, SCORE_96, SCORE_FAIL, sheet_data

TODAY = dt.date(2026, 6, 1)


def _certificate(app, **overrides) -> str:
    with app.app_context():
        number = make_certificate(**overrides).number
        db.session.commit()
        return number


def _record(client, number, kind, deficits, **extra):
    url = f"/office/certificates/{number}/audits/new?kind={kind}"
    preview = client.post(url, data=sheet_data(deficits, preview="y", **extra))
    match = re.search(r'name="confirmed_score" type="hidden" value="([^"]+)"', preview.get_data(as_text=True))
    if match is None:
        return preview
    return client.post(url, data=sheet_data(deficits, save="y", confirmed_score=match.group(1), **extra))


def _kinds(app, number) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(LedgerEntry.kind).where(LedgerEntry.certificate_number == number)
                                       .order_by(LedgerEntry.seq)))


def _cert(app, number) -> Certificate:
    with app.app_context():
        certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
        db.session.expunge(certificate)
        return certificate


def test_surveillance_audit_with_a_lower_score_lowers_the_level(app, officer_client, client):
    number = _certificate(app, level="4", issued_on=dt.date(2025, 9, 1))
    response = _record(officer_client, number, "surveillance", SCORE_85, reason="年度监督审核", audited_on="2026-05-20")
    assert response.status_code == 302
    certificate = _cert(app, number)
    assert certificate.level == "3" and certificate.surveillance_count == 1
    assert certificate.last_surveillance_on == dt.date(2026, 5, 20)
    assert certificate.surveillance_due_on == dt.date(2027, 5, 20)
    assert _kinds(app, number) == ["audit_recorded", "level_changed"]
    public = client.get(f"/certificates/{number}").get_data(as_text=True)
    assert "三星" in public and "等级由 四星 调整为 三星" in public


def test_surveillance_audit_raises_the_level_only_when_the_officer_says_so(app, officer_client):
    kept = _certificate(app, level="3", issued_on=dt.date(2025, 9, 1))
    _record(officer_client, kept, "surveillance", SCORE_96, reason="年度监督审核")  # apply_raise unticked
    assert _cert(app, kept).level == "3"
    raised = _certificate(app, level="3", issued_on=dt.date(2025, 9, 1))
    _record(officer_client, raised, "surveillance", SCORE_96, reason="年度监督审核", apply_raise="y")
    assert _cert(app, raised).level == "5"


def test_surveillance_needs_a_reason(app, officer_client):
    number = _certificate(app, issued_on=dt.date(2025, 9, 1))
    response = _record(officer_client, number, "surveillance", SCORE_85)
    assert response.status_code == 422 and "理由" in response.get_data(as_text=True)
    assert _kinds(app, number) == []


def test_passing_surveillance_lifts_the_overdue_surveillance_suspension(app, officer_client, client):
    number = _certificate(app, issued_on=dt.date(2025, 3, 1))  # due 2026-03-01; today 2026-06-01 → suspended
    assert "暂停" in client.get(f"/certificates/{number}").get_data(as_text=True)
    response = _record(officer_client, number, "surveillance", SCORE_96, reason="补做监督审核")
    assert response.status_code == 302
    assert _cert(app, number).effective_status(TODAY).value == "valid"
    assert _kinds(app, number)[:2] == ["audit_recorded", "restored"]


def test_failed_surveillance_is_recorded_and_changes_nothing_else(app, officer_client):
    number = _certificate(app, level="4", issued_on=dt.date(2025, 9, 1))
    response = _record(officer_client, number, "surveillance", SCORE_FAIL, reason="年度监督审核")
    assert response.status_code == 302
    certificate = _cert(app, number)
    assert certificate.level == "4" and certificate.surveillance_count == 0 and certificate.last_surveillance_on is None
    assert _kinds(app, number) == ["audit_recorded"]
    page = officer_client.get(f"/office/certificates/{number}").get_data(as_text=True)
    assert "审核未通过" in page


def test_surveillance_does_not_lift_a_suspension_decided_by_the_body(app, officer_client):
    number = _certificate(app, issued_on=dt.date(2025, 9, 1))
    officer_client.post(f"/office/certificates/{number}/suspend",
                        data={"suspend-until": "2026-08-01", "suspend-reason": "投诉查实"})
    _record(officer_client, number, "surveillance", SCORE_96, reason="年度监督审核")
    assert _cert(app, number).effective_status(TODAY).value == "suspended"


def test_recertification_starts_a_new_validity_period_with_the_same_number(app, officer_client, client):
    number = _certificate(app, issued_on=dt.date(2023, 8, 1), level="3")  # expires 2026-07-31
    with app.app_context():
        db.session.scalar(select(Certificate).where(Certificate.number == number)).last_surveillance_on = dt.date(2025, 7, 1)
        db.session.commit()
    response = _record(officer_client, number, "recertification", SCORE_85, reason="再认证审核通过")
    assert response.status_code == 302
    certificate = _cert(app, number)
    assert certificate.issued_on == dt.date(2026, 6, 1) and certificate.expires_on == dt.date(2029, 5, 31)
    assert certificate.recertification_count == 1 and certificate.first_issued_on == dt.date(2023, 8, 1)
    assert certificate.surveillance_due_on == dt.date(2027, 6, 1)
    assert "renewed" in _kinds(app, number)
    assert "2029-05-31" in client.get(f"/certificates/{number}").get_data(as_text=True)


def test_an_expired_certificate_cannot_be_recertified(app, officer_client):
    number = _certificate(app, issued_on=dt.date(2022, 1, 1), last_surveillance_on=dt.date(2024, 1, 1))
    response = officer_client.get(f"/office/certificates/{number}/audits/new?kind=recertification")
    assert response.status_code == 200
    saved = _record(officer_client, number, "recertification", SCORE_85, reason="再认证")
    assert saved.status_code == 422 and "过期" in saved.get_data(as_text=True)
    assert _cert(app, number).recertification_count == 0


def test_special_audit_lowers_the_level_and_keeps_the_dates(app, officer_client):
    number = _certificate(app, level="5", score=96, issued_on=dt.date(2025, 9, 1))
    response = _record(officer_client, number, "special", SCORE_85, reason="投诉查实后的特殊审核")
    assert response.status_code == 302
    certificate = _cert(app, number)
    assert certificate.level == "3" and certificate.surveillance_due_on == dt.date(2026, 9, 1)
    assert _kinds(app, number) == ["audit_recorded", "level_changed"]


def test_officer_suspends_and_the_public_page_says_so(app, officer_client, client):
    number = _certificate(app, issued_on=dt.date(2025, 9, 1))
    response = officer_client.post(f"/office/certificates/{number}/suspend",
                                   data={"suspend-until": "2026-09-01", "suspend-reason": "监督发现严重不符合"})
    assert response.status_code == 302
    public = client.get(f"/certificates/{number}").get_data(as_text=True)
    assert "暂停" in public and "监督发现严重不符合" in public


def test_suspension_longer_than_the_policy_is_shown_on_the_page_and_changes_nothing(app, officer_client):
    number = _certificate(app, issued_on=dt.date(2025, 9, 1))
    response = officer_client.post(f"/office/certificates/{number}/suspend",
                                   data={"suspend-until": "2027-01-01", "suspend-reason": "监督发现严重不符合"})
    assert response.status_code == 422
    assert "2026-12-01" in response.get_data(as_text=True)
    assert _cert(app, number).status == "valid" and _kinds(app, number) == []


def test_every_decision_needs_a_reason(app, officer_client):
    number = _certificate(app, issued_on=dt.date(2025, 9, 1))
    for action in ("suspend", "revoke", "withdraw", "restore"):
        response = officer_client.post(f"/office/certificates/{number}/{action}",
                                       data={f"{action}-until": "2026-07-01", f"{action}-reason": ""})
        assert response.status_code == 422, action
    assert _kinds(app, number) == []


def test_restore_then_revoke_then_refuse_anything_more(app, officer_client, client):
    number = _certificate(app, issued_on=dt.date(2025, 9, 1))
    officer_client.post(f"/office/certificates/{number}/suspend",
                        data={"suspend-until": "2026-07-01", "suspend-reason": "投诉查实"})
    assert officer_client.post(f"/office/certificates/{number}/restore",
                               data={"restore-reason": "整改完成"}).status_code == 302
    assert officer_client.post(f"/office/certificates/{number}/revoke",
                               data={"revoke-reason": "严重违规"}).status_code == 302
    again = officer_client.post(f"/office/certificates/{number}/restore", data={"restore-reason": "误操作"})
    assert again.status_code == 422 and "撤销" in again.get_data(as_text=True)
    assert _kinds(app, number) == ["suspended", "restored", "revoked"]
    assert "撤销" in client.get(f"/certificates/{number}").get_data(as_text=True)


def test_withdrawal_is_final(app, officer_client):
    number = _certificate(app, issued_on=dt.date(2025, 9, 1))
    assert officer_client.post(f"/office/certificates/{number}/withdraw",
                               data={"withdraw-reason": "持证企业申请注销"}).status_code == 302
    response = officer_client.post(f"/office/certificates/{number}/suspend",
                                   data={"suspend-until": "2026-07-01", "suspend-reason": "试图暂停"})
    assert response.status_code == 422


def test_editing_scope_is_logged_with_what_changed(app, officer_client, client):
    number = _certificate(app, issued_on=dt.date(2025, 9, 1))
    response = officer_client.post(f"/office/certificates/{number}/edit", data={
        "edit-scope": "家用电器的安装与维修服务", "edit-service_sites": "上海市浦东新区服务中心", "edit-reason": "范围缩小"})
    assert response.status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "updated"))
        assert entry.data["changes"]["scope"][1] == "家用电器的安装与维修服务"
    assert "上海市浦东新区服务中心" in client.get(f"/certificates/{number}").get_data(as_text=True)


def test_renaming_a_company_keeps_the_old_name_and_logs_it_on_its_certificates(app, officer_client, client):
    with app.app_context():
        company = make_company(name="旧名称家电有限公司")
        number = make_certificate(company, issued_on=dt.date(2025, 9, 1)).number
        company_id = company.id
        db.session.commit()
    response = officer_client.post(f"/office/companies/{company_id}/edit", data={
        "name": "新名称家电有限公司", "province": "北京市", "city": "北京市", "address": "海淀区中关村大街1号",
        "industry": "家电", "enterprise_type": "production", "reason": "工商变更登记"})
    assert response.status_code == 302
    public = client.get(f"/certificates/{number}").get_data(as_text=True)
    assert "新名称家电有限公司" in public and "旧名称家电有限公司" in public
    assert _kinds(app, number) == ["updated"]


def test_company_edit_without_changes_or_reason_is_refused(app, officer_client):
    with app.app_context():
        company = make_company(name="某某家电有限公司")
        company_id = company.id
        db.session.commit()
    same = {"name": "某某家电有限公司", "province": "北京市", "city": "北京市", "address": "海淀区中关村大街1号",
            "industry": "家电", "enterprise_type": "production"}
    assert officer_client.post(f"/office/companies/{company_id}/edit", data={**same, "reason": "无"}).status_code == 422
    assert officer_client.post(f"/office/companies/{company_id}/edit",
                               data={**same, "name": "新名", "reason": ""}).status_code == 422


def test_dashboard_lists_overdue_surveillance_and_suspensions_ending(app, officer_client):
    overdue = _certificate(app, issued_on=dt.date(2025, 3, 1))
    ending = _certificate(app, issued_on=dt.date(2025, 9, 1))
    officer_client.post(f"/office/certificates/{ending}/suspend",
                        data={"suspend-until": "2026-06-20", "suspend-reason": "投诉查实"})
    page = officer_client.get("/office").get_data(as_text=True)
    assert overdue in page and "已逾期" in page and ending in page
