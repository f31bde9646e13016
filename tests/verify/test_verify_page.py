"""/v/<number>: what a consumer sees after scanning, and the status on a given day."""
from __future__ import annotations

import datetime as dt

import pytest

from registry.certificates import lifecycle
from registry.certificates.lifecycle import SYSTEM
from registry.certificates.models import Certificate
from registry.extensions import db
from tests.verify.conftest import issued


def test_verify_page_shows_status_level_company_scope_dates_and_check_time(client, five_star):
    response = client.get(f"/v/{five_star}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "有效" in page and "★★★★★" in page and "五星" in page and "GB/T 27922" in page
    assert "青岛海澜家电有限公司" in page and "91110108" in page
    assert "家用电器的配送、安装、维修及退换货服务" in page
    assert "2025-09-01" in page and "2028-08-31" in page and "2026-09-01" in page  # from, to, next surveillance due
    assert "查询时间：2026-06-01" in page and "北京时间" in page
    assert response.headers["Cache-Control"] == "no-store"


def test_verify_page_in_english(client, five_star):
    page = client.get(f"/v/{five_star}?lang=en").get_data(as_text=True)
    assert "Valid" in page and "Five stars" in page and "Beijing time" in page


@pytest.mark.parametrize("typed", ["99925sv00042r0", "９９９２５ＳＶ０００４２Ｒ０", "99925-SV-00042-R0", "99925 SV 00042 R0"])
def test_number_in_the_url_is_matched_tolerantly(client, five_star, typed):
    response = client.get(f"/v/{typed}")
    assert response.status_code == 200 and "青岛海澜家电有限公司" in response.get_data(as_text=True)


def test_unknown_number_is_404_saying_the_mark_may_be_forged_with_a_report_link(client):
    response = client.get("/v/99925SV99999R0?c=ABCDEFGH")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "本平台没有编号为“99925SV99999R0”的证书" in page and "可能是伪造的" in page
    assert "/verify/report?number=99925SV99999R0" in page


def test_revoked_certificate_says_do_not_rely_on_the_mark_and_offers_a_report(app, client):
    with app.app_context():
        cert = issued()
        lifecycle.revoke_certificate(cert, reason="严重违规", actor=SYSTEM)
        db.session.commit()
        number = cert.number
    page = client.get(f"/v/{number}").get_data(as_text=True)
    assert "撤销" in page and "请勿信任此标志" in page and "reason=not_valid" in page


@pytest.fixture
def suspended_then_downgraded(app):
    """Issued 2025-09-01 at 五星; suspended 2026-02-01 until 2026-04-30; restored 2026-03-10; 四星 from 2026-05-03."""
    def at(day):
        app.config["REGISTRY_TODAY"] = day
    with app.app_context():
        cert = issued(level="5")
        db.session.commit()
        cert_id = cert.id
    for day, action in [("2026-02-01", "suspend"), ("2026-03-10", "restore"), ("2026-05-03", "downgrade")]:
        at(day)
        with app.app_context():
            cert = db.session.get(Certificate, cert_id)
            if action == "suspend":
                lifecycle.suspend_certificate(cert, reason="投诉核实", until=dt.date(2026, 4, 30), actor=SYSTEM)
            elif action == "restore":
                lifecycle.restore_certificate(cert, reason="整改完成", actor=SYSTEM)
            else:
                lifecycle.change_level(cert, new_level="4", reason="监督审核降级", actor=SYSTEM)
            db.session.commit()
    at("2026-06-01")
    with app.app_context():
        return db.session.get(Certificate, cert_id).number


@pytest.mark.parametrize("day, status, level", [
    ("2026-01-15", "有效", "五星"),
    ("2026-02-01", "暂停", "五星"),
    ("2026-03-09", "暂停", "五星"),
    ("2026-03-10", "有效", "五星"),
    ("2026-05-02", "有效", "五星"),
    ("2026-05-03", "有效", "四星"),
])
def test_status_on_a_date_across_a_suspension_and_a_level_change(client, suspended_then_downgraded, day, status, level):
    page = client.get(f"/v/{suspended_then_downgraded}?on={day}").get_data(as_text=True)
    answer = page.split('class="day-answer"', 1)[1]
    assert status in answer and level in answer and day in answer


def test_date_before_issue_says_not_yet_issued(client, five_star):
    page = client.get(f"/v/{five_star}?on=2024-12-31").get_data(as_text=True)
    assert "当日尚未发证" in page


def test_future_date_is_labelled_a_projection(client, five_star):
    page = client.get(f"/v/{five_star}?on=2027-01-01").get_data(as_text=True)
    assert "该日期在未来" in page and "推算" in page


def test_future_date_after_expiry_projects_what_the_rule_says(client, five_star):
    # Projected with nothing else happening: every surveillance is missed, so the certificate is revoked
    # before its expiry, and a revocation stays (撤销 is final).
    answer = client.get(f"/v/{five_star}?on=2029-01-01").get_data(as_text=True).split('class="day-answer"', 1)[1]
    assert "撤销" in answer


@pytest.mark.parametrize("bad", ["2026-02-30", "yesterday", "1800-01-01", "2026-13-01", "9" * 39])
def test_invalid_date_gives_a_clear_message_not_an_error_page(client, five_star, bad):
    response = client.get(f"/v/{five_star}?on={bad}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert ("请按 YYYY-MM-DD 格式输入日期" in page) or ("1990 年至 2100 年" in page)
    assert "有效" in page  # the current status is still shown


def test_date_typed_with_slashes_or_full_width_digits_is_understood(client, five_star):
    page = client.get(f"/v/{five_star}?on=２０２６/０１/１５").get_data(as_text=True)
    assert 'class="day-answer"' in page and "2026-01-15" in page


def test_certificate_page_links_to_verification_qr_mark_and_has_a_date_form(client, five_star):
    page = client.get(f"/certificates/{five_star}").get_data(as_text=True)
    assert f"/v/{five_star}" in page and f"/certificates/{five_star}/qr.svg" in page
    assert f"/certificates/{five_star}/mark.png" in page and 'name="on" type="date"' in page


def test_a_suspension_shows_on_the_very_next_scan_even_after_the_page_was_served(app, client):
    with app.app_context():
        cert = issued()
        db.session.commit()
        cert_id, number = cert.id, cert.number
    assert "有效" in client.get(f"/v/{number}").get_data(as_text=True)
    with app.app_context():
        cert = db.session.get(Certificate, cert_id)
        lifecycle.suspend_certificate(cert, reason="投诉核实", until=dt.date(2026, 7, 1), actor=SYSTEM)
        db.session.commit()
    page = client.get(f"/v/{number}").get_data(as_text=True)
    assert "暂停" in page and "请勿信任此标志" in page


def test_company_name_change_shows_on_the_next_scan(app, client, five_star):
    client.get(f"/v/{five_star}")
    with app.app_context():
        cert = db.session.scalar(db.select(Certificate).where(Certificate.number == five_star))
        cert.company.name = "青岛海澜新名称有限公司"
        db.session.commit()
    assert "青岛海澜新名称有限公司" in client.get(f"/v/{five_star}").get_data(as_text=True)


def test_checked_at_time_is_filled_in_on_every_answer(client, five_star):
    for _ in range(2):
        page = client.get(f"/v/{five_star}").get_data(as_text=True)
        assert "CHECKED-AT" not in page and "查询时间：2026-06-01 " in page
