"""Recording audits on the score sheet (preview before save), issuing certificates, number pattern, stars policy."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from registry.certificates.models import Audit, Certificate, Company
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from tests.conftest import make_app
from tests.factories import make_company
from tests.office.conftest import make_user, sign_in
from tests.office.helpers import SCORE_85, SCORE_96, SCORE_FAIL, sheet_data


def _company(app) -> int:
    with app.app_context():
        company_id = make_company(name="青岛海澜家电有限公司").id
        db.session.commit()
        return company_id


def _audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Audit))


def _save_initial(client, company_id, deficits, **extra):
    url = f"/office/companies/{company_id}/audits/new"
    preview = client.post(url, data=sheet_data(deficits, preview="y", **extra))
    confirmed = re.search(r'name="confirmed_score" type="hidden" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    return client.post(url, data=sheet_data(deficits, save="y", confirmed_score=confirmed, **extra))


def test_officer_registers_a_company_with_a_full_width_credit_code(app, officer_client):
    response = officer_client.post("/office/companies/new", data={
        "name": "杭州示例电器服务有限公司", "uscc": "９１３３０１００７９９６５５０５８Ｂ", "province": "浙江省", "city": "杭州市",
        "address": "西湖区", "industry": "家电", "enterprise_type": "sales_service"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Company.uscc).where(Company.name == "杭州示例电器服务有限公司")) == "91330100799655058B"


def test_company_with_a_bad_credit_code_is_refused_with_a_clear_message(app, officer_client):
    response = officer_client.post("/office/companies/new", data={
        "name": "某公司", "uscc": "914403001922038217", "province": "广东省", "industry": "家电",
        "enterprise_type": "production"})
    assert response.status_code == 422
    assert "这不是有效的统一社会信用代码" in response.get_data(as_text=True)


def test_preview_shows_score_and_level_and_saves_nothing(app, officer_client):
    company_id = _company(app)
    response = officer_client.post(f"/office/companies/{company_id}/audits/new", data=sheet_data(SCORE_85, preview="y"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "85.00" in page and "三星" in page
    assert 'name="save"' in page
    assert _audit_count(app) == 0


def test_save_without_a_preview_only_shows_the_result(app, officer_client):
    company_id = _company(app)
    response = officer_client.post(f"/office/companies/{company_id}/audits/new", data=sheet_data(SCORE_85, save="y"))
    assert response.status_code == 200 and "85.00" in response.get_data(as_text=True)
    assert _audit_count(app) == 0


def test_save_after_changing_an_entry_asks_to_check_the_new_result(app, officer_client):
    company_id = _company(app)
    response = officer_client.post(f"/office/companies/{company_id}/audits/new",
                                   data=sheet_data(SCORE_96, save="y", confirmed_score="85.00|3"))
    page = response.get_data(as_text=True)
    assert "录入内容有变动" in page and "96.00" in page
    assert _audit_count(app) == 0


def test_points_above_the_indicator_maximum_are_refused_on_that_field(app, officer_client):
    company_id = _company(app)
    response = officer_client.post(f"/office/companies/{company_id}/audits/new",
                                   data=sheet_data({"repair": "8"}, preview="y"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "应在 0 到 7 之间" in page


def test_garbage_in_the_sheet_is_a_clear_message_not_a_500(app, officer_client):
    company_id = _company(app)
    for bad in ("abc", "NaN", "1e999", "-1", "3.333"):
        response = officer_client.post(f"/office/companies/{company_id}/audits/new",
                                       data=sheet_data({"repair": bad}, preview="y"))
        assert response.status_code == 422, bad
    future = officer_client.post(f"/office/companies/{company_id}/audits/new",
                                 data=sheet_data(preview="y", audited_on="2026-06-02"))
    assert future.status_code == 422 and "审核日期不能晚于今天" in future.get_data(as_text=True)
    assert _audit_count(app) == 0


def test_excluded_indicators_are_not_scored(app, officer_client):
    company_id = _company(app)
    # Recycling (4 points) excluded and customer relations 0 of 12: 84 of 96 → 87.50.
    response = officer_client.post(f"/office/companies/{company_id}/audits/new",
                                   data=sheet_data({"customer_relations": "0"}, excluded=("recycling",), preview="y"))
    assert "87.50" in response.get_data(as_text=True)


def test_special_deductions_fail_the_audit_whatever_the_score(app, officer_client):
    company_id = _company(app)
    response = officer_client.post(f"/office/companies/{company_id}/audits/new",
                                   data=sheet_data(special_deductions="5", preview="y"))
    assert "特别扣分项过多" in response.get_data(as_text=True)


def test_an_audit_can_be_recorded_as_totals_only(app, officer_client):
    company_id = _company(app)
    data = {"mode": "total", "audited_on": "2026-05-20", "earned_total": "91", "applicable_total": "100",
            "special_deductions": "1", "bonus": "1"}
    response = officer_client.post(f"/office/companies/{company_id}/audits/new", data={**data, "preview": "y"})
    page = response.get_data(as_text=True)
    assert "91.00" in page and "四星" in page
    saved = officer_client.post(f"/office/companies/{company_id}/audits/new",
                                data={**data, "save": "y", "confirmed_score": "91.00|4"})
    assert saved.status_code == 302
    with app.app_context():
        audit = db.session.scalar(select(Audit))
        assert audit.indicator_scores is None and audit.earned_points == 91 and audit.level == "4"


def test_officer_issues_a_certificate_from_a_passing_initial_audit(app, officer_client, client):
    company_id = _company(app)
    saved = _save_initial(officer_client, company_id, SCORE_85)
    assert saved.status_code == 302 and "/office/audits/" in saved.headers["Location"]
    audit_page = officer_client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "颁发证书" in audit_page
    issued = officer_client.post(saved.headers["Location"] + "/issue", data={
        "scope": "家用电器的配送、安装、维修服务", "service_sites": "青岛市市南区服务中心\n青岛市崂山区服务中心",
        "reason": "初次认证审核通过"})
    assert issued.status_code == 302
    number = issued.headers["Location"].rsplit("/", 1)[1]
    assert number == "99926SV00001R0"  # {cb}{yy}SV{serial:05d}R{recert}: no level in it
    public = client.get(f"/certificates/{number}").get_data(as_text=True)
    assert "青岛海澜家电有限公司" in public and "有效" in public and "三星" in public and "2029-05-31" in public
    assert "颁发" in public
    with app.app_context():
        entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "issued"))
        assert entry.certificate_number == number and entry.actor_role == "officer" and entry.level_after == "3"
        certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
        assert certificate.service_sites == ["青岛市市南区服务中心", "青岛市崂山区服务中心"]


def test_second_certificate_of_the_year_gets_the_next_serial(app, officer_client):
    numbers = []
    for name in ("甲公司", "乙公司"):
        with app.app_context():
            company_id = make_company(name=name).id
            db.session.commit()
        saved = _save_initial(officer_client, company_id, SCORE_85)
        issued = officer_client.post(saved.headers["Location"] + "/issue",
                                     data={"scope": "维修服务", "reason": "审核通过"})
        numbers.append(issued.headers["Location"].rsplit("/", 1)[1])
    assert numbers == ["99926SV00001R0", "99926SV00002R0"]


def test_a_failed_audit_cannot_become_a_certificate(app, officer_client):
    company_id = _company(app)
    saved = _save_initial(officer_client, company_id, SCORE_FAIL)
    assert saved.status_code == 302
    assert "颁发证书" not in officer_client.get(saved.headers["Location"]).get_data(as_text=True)
    response = officer_client.post(saved.headers["Location"] + "/issue", data={"scope": "维修服务", "reason": "试图颁证"})
    assert response.status_code == 422 and "该审核未通过" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1  # the fixture's own


def test_one_audit_issues_one_certificate_only(app, officer_client):
    company_id = _company(app)
    saved = _save_initial(officer_client, company_id, SCORE_85)
    officer_client.post(saved.headers["Location"] + "/issue", data={"scope": "维修服务", "reason": "审核通过"})
    again = officer_client.post(saved.headers["Location"] + "/issue", data={"scope": "维修服务", "reason": "审核通过"})
    assert again.status_code == 422 and "已依据该审核颁发过证书" in again.get_data(as_text=True)


def test_issuing_needs_a_reason_and_a_scope(app, officer_client):
    company_id = _company(app)
    saved = _save_initial(officer_client, company_id, SCORE_85)
    response = officer_client.post(saved.headers["Location"] + "/issue", data={"scope": "", "reason": ""})
    assert response.status_code == 422


def _policy_app(tmp_path, **config):
    app = make_app(tmp_path, STARS_REQUIRE_YEAR_AT_COMPLIANT=True, **config)
    with app.app_context():
        officer = make_user("officer").id
        company_id = make_company().id
        db.session.commit()
    client = app.test_client()
    sign_in(client, officer)
    return app, client, company_id


def test_stars_policy_issues_a_first_certificate_at_compliant(tmp_path):
    app, client, company_id = _policy_app(tmp_path)
    saved = _save_initial(client, company_id, SCORE_96)
    assert "达标" in client.get(saved.headers["Location"]).get_data(as_text=True)
    issued = client.post(saved.headers["Location"] + "/issue", data={"scope": "维修服务", "reason": "审核通过"})
    with app.app_context():
        certificate = db.session.scalar(select(Certificate))
        assert issued.status_code == 302 and certificate.level == "compliant" and certificate.score == 96


def test_stars_policy_allows_stars_for_outstanding_results_with_a_reason(tmp_path):
    app, client, company_id = _policy_app(tmp_path)
    saved = _save_initial(client, company_id, SCORE_96)
    no_reason = client.post(saved.headers["Location"] + "/issue",
                            data={"scope": "维修服务", "reason": "审核通过", "outstanding": "y"})
    assert no_reason.status_code == 422
    issued = client.post(saved.headers["Location"] + "/issue", data={
        "scope": "维修服务", "reason": "审核通过", "outstanding": "y", "outstanding_reason": "行业领先的服务体系"})
    assert issued.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Certificate.level)) == "5"


def test_number_pattern_is_configurable(tmp_path):
    app, client, company_id = _policy_app(tmp_path, CERTIFICATE_NUMBER_PATTERN="SV-{yyyy}-{serial:04d}")
    saved = _save_initial(client, company_id, SCORE_85)
    issued = client.post(saved.headers["Location"] + "/issue", data={"scope": "维修服务", "reason": "审核通过"})
    assert issued.headers["Location"].endswith("/SV-2026-0001")


def test_the_score_sheet_speaks_english_when_asked(app, officer_client):
    company_id = _company(app)
    page = officer_client.get(f"/office/companies/{company_id}/audits/new",
                              headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Compute score and level" in page and "Complaint handling" in page and "Excluded" in page


def test_odd_page_numbers_in_office_lists_never_fail(app, officer_client):
    for query in ("?page=abc", "?page=-1", "?page=99999999999999999999", "?q=%25_%5C"):
        assert officer_client.get("/office/certificates" + query).status_code == 200
        assert officer_client.get("/office/companies" + query).status_code == 200
