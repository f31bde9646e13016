"""Reporting a suspected fake mark: a case with a public number, photo checked by content, moderators list it."""
from __future__ import annotations

import io
import os

from PIL import Image
from sqlalchemy import select

from registry.certificates.reports import FakeMarkReport
from registry.extensions import db
from tests.conftest import make_app
from tests.verify.conftest import sign_in


def jpeg_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def post_report(client, **fields):
    data = {"reason": "not_found", "number": "99925SV99999R0", "where_seen": "某市某商场三楼", "seller": "某电器专卖店",
            "description": "包装上的五星标志扫码后查无此证"}
    data.update(fields)
    return client.post("/verify/report", data=data, content_type="multipart/form-data")


def test_report_form_is_prefilled_from_the_not_found_page(client):
    page = client.get("/verify/report?number=99925SV99999R0&reason=not_found").get_data(as_text=True)
    assert 'value="99925SV99999R0"' in page and "您在哪里看到该标志" in page


def test_report_with_photo_is_stored_as_a_case_and_the_case_number_is_shown(app, client, tmp_path):
    response = post_report(client, photo=(io.BytesIO(jpeg_bytes()), "IMG_0001.heic"))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        report = db.session.scalar(select(FakeMarkReport))
        assert report.case_number in page and report.where_seen == "某市某商场三楼"
        assert report.photo_type == "image/jpeg" and report.photo_file.endswith(".jpg")
        stored = os.path.join(app.config["UPLOAD_DIR"], "fake_marks", report.photo_file)
    assert os.path.isfile(stored) and str(tmp_path) in stored  # outside static/


def test_a_file_that_is_not_an_image_is_refused_whatever_its_name(app, client):
    response = post_report(client, photo=(io.BytesIO(b"<?php echo 1; ?>" * 10), "photo.jpg"))
    assert response.status_code == 422
    assert "无法将该照片识别为" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(FakeMarkReport)) is None


def test_a_photo_over_5_mb_is_refused(app, client):
    big = jpeg_bytes() + b"\0" * (5 * 1024 * 1024)
    response = post_report(client, photo=(io.BytesIO(big), "big.jpg"))
    assert response.status_code == 422 and "照片超过 5 MB" in response.get_data(as_text=True)


def test_where_seen_is_required(app, client):
    response = post_report(client, where_seen="")
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(FakeMarkReport)) is None


def test_honeypot_filled_stores_nothing_but_looks_the_same(app, client):
    response = post_report(client, website="http://spam.example")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(FakeMarkReport)) is None


def test_report_without_csrf_token_is_refused(tmp_path, backend):
    app = make_app(tmp_path, backend, WTF_CSRF_ENABLED=True)
    response = post_report(app.test_client())
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(FakeMarkReport)) is None
        db.engine.dispose()


def test_reports_are_rate_limited_per_client(tmp_path, backend):
    app = make_app(tmp_path, backend, RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = [post_report(client).status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    with app.app_context():
        db.engine.dispose()


def test_moderator_lists_reports_and_views_the_photo(app, client):
    post_report(client, photo=(io.BytesIO(jpeg_bytes()), "x.jpg"))
    moderator = app.test_client()
    sign_in(moderator, app, "moderator")
    page = moderator.get("/verify/reports").get_data(as_text=True)
    assert "某市某商场三楼" in page and "某电器专卖店" in page and "99925SV99999R0" in page
    with app.app_context():
        case = db.session.scalar(select(FakeMarkReport)).case_number
    photo = moderator.get(f"/verify/reports/{case}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert "no-store" in photo.headers["Cache-Control"]


def test_company_account_cannot_list_reports_or_see_photos(app, client):
    post_report(client, photo=(io.BytesIO(jpeg_bytes()), "x.jpg"))
    with app.app_context():
        case = db.session.scalar(select(FakeMarkReport)).case_number
    company = app.test_client()
    sign_in(company, app, "company")
    assert company.get("/verify/reports").status_code == 403
    assert company.get(f"/verify/reports/{case}/photo").status_code == 403


def test_photo_of_unknown_case_is_404_for_moderators(app, client):
    sign_in(client, app, "admin")
    assert client.get("/verify/reports/FM-000000-XXXXX/photo").status_code == 404


def test_report_on_a_known_certificate_is_linked_to_it(app, client, five_star):
    post_report(client, number=five_star.lower(), reason="mismatch")
    with app.app_context():
        report = db.session.scalar(select(FakeMarkReport))
        assert report.certificate_id is not None and report.reason == "mismatch"
