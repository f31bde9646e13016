"""The public register: home, list with filters, certificate page, in Chinese and English."""
from __future__ import annotations

import datetime as dt

from registry.extensions import db
from tests.factories import make_certificate, make_company


def test_home_shows_counts_and_verify_box_in_chinese_by_default(app, client):
    with app.app_context():
        make_certificate(level="5", score=96)
        db.session.commit()
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'lang="zh-Hans"' in page
    assert "有效" in page and "五星" in page


def test_english_chosen_by_switch_is_remembered(client):
    response = client.get("/lang/en?next=/certificates")
    assert response.status_code == 302 and response.headers["Location"] == "/certificates"
    page = client.get("/certificates").get_data(as_text=True)
    assert 'lang="en"' in page and "Certificates" in page


def test_language_switch_refuses_offsite_redirect(client):
    response = client.get("/lang/en?next=//evil.example/x")
    assert response.headers["Location"] == "/"


def test_accept_language_english_gives_english(client):
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert 'lang="en"' in page


def test_certificate_page_shows_company_level_and_expired_status(app, client):
    with app.app_context():
        company = make_company(name="青岛海澜家电有限公司")
        make_certificate(company, number="99922SV00001R0", issued_on=dt.date(2022, 1, 10), level="3", score=85,
                         last_surveillance_on=dt.date(2024, 1, 5))
        db.session.commit()
    page = client.get("/certificates/99922SV00001R0").get_data(as_text=True)
    assert "青岛海澜家电有限公司" in page
    assert "三星" in page
    assert "过期" in page  # issued 2022-01-10, valid to 2025-01-09; today is pinned to 2026-06-01


def test_unknown_certificate_is_404(client):
    assert client.get("/certificates/NOPE").status_code == 404


def test_status_filter_uses_effective_status(app, client):
    with app.app_context():
        make_certificate(company=make_company(name="甲公司"), issued_on=dt.date(2022, 1, 1),
                         last_surveillance_on=dt.date(2024, 1, 1))
        make_certificate(company=make_company(name="乙公司"), issued_on=dt.date(2025, 10, 1))
        db.session.commit()
    page = client.get("/certificates?status=expired").get_data(as_text=True)
    assert "甲公司" in page and "乙公司" not in page
    page = client.get("/certificates?status=valid").get_data(as_text=True)
    assert "乙公司" in page and "甲公司" not in page


def test_odd_query_strings_never_fail(client):
    for query in ("?page=abc", "?page=-3", "?page=99999999999999999999", "?status=bogus", "?province=' OR 1=1 --", "?industry=%E5%AE%B6"):
        assert client.get("/certificates" + query).status_code == 200


def test_nul_byte_in_query_is_a_clear_400(client):
    response = client.get("/certificates?level=%00")
    assert response.status_code == 400
    assert "无法理解该请求" in response.get_data(as_text=True)
