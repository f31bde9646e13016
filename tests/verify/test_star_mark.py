"""The star mark: printable, QR carries the printed level, refused for certificates that are not valid."""
from __future__ import annotations

import datetime as dt

from registry.certificates import lifecycle
from registry.certificates.lifecycle import SYSTEM
from registry.extensions import db
from tests.verify.conftest import decode_qr, issued, local_path


def test_mark_png_qr_carries_the_printed_level_and_leads_to_a_matching_page(client, five_star):
    response = client.get(f"/certificates/{five_star}/mark.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    url = decode_qr(response.data)
    assert "l=5" in url and "c=" in url
    page = client.get(local_path(url)).get_data(as_text=True)
    assert "此二维码由本平台签发" in page and "此标志显示为" not in page


def test_mark_svg_names_level_scheme_and_number(client, five_star):
    response = client.get(f"/certificates/{five_star}/mark.svg")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert "五星" in body and "GB/T 27922" in body and five_star in body and "<polygon" in body


def test_mark_in_english_uses_english_words(client, five_star):
    body = client.get(f"/certificates/{five_star}/mark.svg?lang=en").get_data(as_text=True)
    assert "Five stars" in body and "After-sales service certification" in body


def test_old_five_star_mark_after_downgrade_warns_with_the_date_of_the_change(app, client):
    with app.app_context():
        cert = issued(level="5", issued_on=dt.date(2025, 9, 1))
        db.session.commit()
        number = cert.number
    old_mark_url = decode_qr(client.get(f"/certificates/{number}/mark.png").data)
    app.config["REGISTRY_TODAY"] = "2026-05-03"
    with app.app_context():
        cert = db.session.get(type(cert), cert.id)
        lifecycle.change_level(cert, new_level="4", reason="监督审核降级", actor=SYSTEM)
        db.session.commit()
    app.config["REGISTRY_TODAY"] = "2026-06-01"
    page = client.get(local_path(old_mark_url)).get_data(as_text=True)
    assert "此标志显示为五星，但自 2026-05-03 起该证书为四星" in page


def test_printed_level_that_the_scheme_does_not_have_is_called_a_possible_forgery(client, five_star):
    page = client.get(f"/v/{five_star}?l=9").get_data(as_text=True)
    assert "认证方案中不存在" in page


def test_mark_of_a_suspended_certificate_answers_410_saying_why(app, client):
    with app.app_context():
        cert = issued()
        lifecycle.suspend_certificate(cert, reason="监督发现问题", until=dt.date(2026, 8, 1), actor=SYSTEM)
        db.session.commit()
        number = cert.number
    for suffix in ("mark.svg", "mark.png"):
        response = client.get(f"/certificates/{number}/{suffix}")
        page = response.get_data(as_text=True)
        assert response.status_code == 410
        assert "暂停" in page and "星级标志只能用于有效证书" in page


def test_mark_of_an_expired_certificate_answers_410(app, client):
    with app.app_context():
        number = issued(issued_on=dt.date(2022, 1, 10), last_surveillance_on=dt.date(2024, 1, 5)).number
        db.session.commit()
    response = client.get(f"/certificates/{number}/mark.svg")
    assert response.status_code == 410 and "过期" in response.get_data(as_text=True)


def test_mark_answers_304_to_a_matching_etag(client, five_star):
    first = client.get(f"/certificates/{five_star}/mark.svg")
    again = client.get(f"/certificates/{five_star}/mark.svg", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
