"""Filing /complaints/new: preselected certificate, search, confirmation, and bad input refused with nothing stored."""
from __future__ import annotations

import io
import os

from sqlalchemy import func, select

from registry.complaints.messages import sent
from registry.complaints.models import Complaint, ComplaintAttachment
from registry.extensions import db
from tests.complaints.conftest import file_via_client, filing_form, png_bytes
from tests.conftest import make_app


def _count(app, model=Complaint):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _stored_files(app):
    root = os.path.join(app.config["UPLOAD_DIR"], "complaints")
    return [f for _d, _s, files in os.walk(root) for f in files] if os.path.isdir(root) else []


def test_certificate_is_preselected_from_the_query_string(client, world):
    page = client.get(f"/complaints/new?certificate={world.cert_a}").get_data(as_text=True)
    assert world.cert_a in page and 'name="certificate" value="' + world.cert_a in page
    assert "谁能看到哪些信息" in page and "企业看不到您的电子邮箱" in page


def test_without_a_certificate_the_page_offers_a_search_that_links_to_the_form(app, client, world):
    with app.app_context():
        from registry.certificates.models import Certificate
        name = db.session.scalar(select(Certificate).where(Certificate.number == world.cert_a)).company.name
    page = client.get("/complaints/new", query_string={"q": name}).get_data(as_text=True)
    assert f"/complaints/new?certificate={world.cert_a}" in page


def test_filing_shows_tracking_number_and_private_link_and_sends_it_by_sms(app, client, world):
    tracking, link = file_via_client(client, world.cert_a)
    page = client.get(link).get_data(as_text=True)
    assert tracking in page and "已收到，待审核" in page
    with app.app_context():
        complaint = db.session.scalar(select(Complaint).where(Complaint.tracking_number == tracking))
        token = link.split("token=")[1]
        assert token not in complaint.token_hash and len(complaint.token_hash) == 64
        assert complaint.consumer_mobile == "+8613812345678"
        assert complaint.due_on.isoformat() == "2026-06-10"   # 7 working days from Mon 2026-06-01
        assert "王小明" not in complaint.public_summary and "13812345678" not in complaint.public_summary
        messages = sent(app)
    assert any(m.channel == "sms" and m.to == "+8613812345678" and token in m.body for m in messages)


def test_a_photo_and_a_pdf_are_stored_outside_static_and_served_only_with_the_token(app, client, world):
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    data = filing_form(world.cert_a)
    data["attachments"] = [(io.BytesIO(png_bytes()), "receipt.png"), (io.BytesIO(pdf), "invoice.pdf")]
    response = client.post("/complaints/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert len(_stored_files(app)) == 2 and "static" not in app.config["UPLOAD_DIR"]
    link = client.get(response.headers["Location"]).get_data(as_text=True).split('href="/complaints/TS')[1].split('"')[0]
    link = "/complaints/TS" + link.replace("&amp;", "&")
    with app.app_context():
        image = db.session.scalar(select(ComplaintAttachment).where(ComplaintAttachment.content_type == "image/png"))
        image_id = image.id
    token = link.split("token=")[1]
    assert client.get(f"/complaints/attachments/{image_id}?token={token}").status_code == 200
    assert client.get(f"/complaints/attachments/{image_id}").status_code == 404
    assert client.get(f"/complaints/attachments/{image_id}?token=wrong").status_code == 404


def test_oversized_file_is_refused_with_a_clear_message_and_nothing_is_stored(app, client, world):
    data = filing_form(world.cert_a)
    big = png_bytes() + b"\0" * (5 * 1024 * 1024 + 10)
    data["attachments"] = [(io.BytesIO(big), "photo.png")]
    response = client.post("/complaints/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "photo.png 超过 5 MB" in response.get_data(as_text=True)
    assert _count(app) == 0 and _stored_files(app) == []


def test_a_script_renamed_jpg_is_refused_by_its_content(app, client, world):
    data = filing_form(world.cert_a)
    data["attachments"] = [(io.BytesIO(b"#!/bin/sh\nrm -rf /\n"), "photo.jpg")]
    response = client.post("/complaints/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "photo.jpg 不是照片" in response.get_data(as_text=True)
    assert _count(app) == 0 and _stored_files(app) == []


def test_a_jpeg_header_with_garbage_after_it_is_refused(app, client, world):
    data = filing_form(world.cert_a)
    data["attachments"] = [(io.BytesIO(b"\xff\xd8\xff\xe0" + b"<script>alert(1)</script>" * 10), "x.jpg")]
    assert client.post("/complaints/new", data=data, content_type="multipart/form-data").status_code == 422
    assert _count(app) == 0


def test_six_files_are_refused(app, client, world):
    data = filing_form(world.cert_a)
    data["attachments"] = [(io.BytesIO(png_bytes()), f"p{i}.png") for i in range(6)]
    response = client.post("/complaints/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422 and "最多 5 个文件" in response.get_data(as_text=True)
    assert _count(app) == 0 and _stored_files(app) == []


def test_an_invalid_mobile_number_is_refused_with_a_clear_message(app, client, world):
    response = client.post("/complaints/new", data=filing_form(world.cert_a, mobile="12345"))
    assert response.status_code == 422
    assert "请输入有效的手机号码" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_a_landline_is_not_accepted_as_a_mobile(app, client, world):
    response = client.post("/complaints/new", data=filing_form(world.cert_a, mobile="010 6234 5678"))
    assert response.status_code == 422 and _count(app) == 0


def test_markup_in_the_text_is_shown_escaped(app, client, world):
    tracking, link = file_via_client(client, world.cert_a,
                                     description="<script>alert('x')</script> 维修师傅没有按约定时间上门")
    page = client.get(link).get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_missing_consent_is_refused(app, client, world):
    data = filing_form(world.cert_a)
    del data["consent"]
    response = client.post("/complaints/new", data=data)
    assert response.status_code == 422 and "请确认您已阅读信息可见范围说明" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_unknown_certificate_is_refused_on_the_form(app, client, world):
    response = client.post("/complaints/new", data=filing_form("NOPE123"))
    assert response.status_code == 422 and "没有此编号的证书" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_a_filled_honeypot_stores_nothing(app, client, world):
    response = client.post("/complaints/new", data=filing_form(world.cert_a, website="http://spam.example"))
    assert response.status_code == 400 and _count(app) == 0


def test_future_purchase_date_is_refused(app, client, world):
    response = client.post("/complaints/new", data=filing_form(world.cert_a, purchase_date="2027-01-01"))
    assert response.status_code == 422 and "购买日期不能晚于今天" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_filing_is_rate_limited_per_client(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, COMPLAINT_FILING_RATE_LIMIT="2 per hour")
    from registry.extensions import limiter
    with app.app_context():
        limiter.reset()
        from tests.factories import make_certificate
        number = make_certificate().number
        db.session.commit()
    client = app.test_client()
    codes = [client.post("/complaints/new", data=filing_form(number)).status_code for _i in range(3)]
    assert codes == [302, 302, 429]
    assert client.get("/complaints/new").status_code == 200   # reading the form is not limited
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _limited_app(tmp_path, **limits):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, **limits)
    from registry.extensions import limiter
    with app.app_context():
        limiter.reset()
        from tests.factories import make_certificate
        number = make_certificate().number
        db.session.commit()
    return app, number


def _dispose(app):
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_filing_after_five_failed_attempts_succeeds(tmp_path):
    app, number = _limited_app(tmp_path, COMPLAINT_FILING_RATE_LIMIT="2 per hour",
                               COMPLAINT_FILING_CLIENT_RATE_LIMIT="2 per hour")
    client = app.test_client()
    failed = [client.post("/complaints/new", data=filing_form(number, description="太短")).status_code for _i in range(5)]
    assert failed == [422] * 5
    assert client.post("/complaints/new", data=filing_form(number)).status_code == 302
    _dispose(app)


def test_the_429_page_says_when_and_keeps_everything_typed(tmp_path):
    app, number = _limited_app(tmp_path, COMPLAINT_FILING_RATE_LIMIT="1 per hour")
    client = app.test_client()
    assert client.post("/complaints/new", data=filing_form(number)).status_code == 302
    response = client.post("/complaints/new", data=filing_form(number, description="第二次投诉：安装师傅收取了额外的材料费。"))
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "分钟后再提交" in page and "第二次投诉：安装师傅收取了额外的材料费。" in page and 'value="王小明"' in page
    _dispose(app)


def test_the_limit_follows_the_mobile_number_not_everyone_behind_one_address(tmp_path):
    app, number = _limited_app(tmp_path, COMPLAINT_FILING_RATE_LIMIT="1 per hour",
                               COMPLAINT_FILING_CLIENT_RATE_LIMIT="3 per hour")
    client = app.test_client()
    codes = [client.post("/complaints/new", data=filing_form(number, mobile=m)).status_code
             for m in ("13812345678", "13812345678", "13900001111", "13700002222", "13600003333")]
    assert codes == [302, 429, 302, 302, 429]   # the same mobile twice; then the client's wider limit
    _dispose(app)


def test_attachments_survive_a_validation_error_and_are_stored_with_the_filing(app, client, world):
    data = filing_form(world.cert_a, description="太短")
    data["attachments"] = [(io.BytesIO(png_bytes()), "photo.jpg"), (io.BytesIO(b"not a picture"), "notes.jpg")]
    response = client.post("/complaints/new", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "已附：photo.jpg" in page                          # kept server-side
    assert "notes.jpg" in page and "重新选择" in page           # refused: said plainly
    response = client.post("/complaints/new", data=filing_form(world.cert_a), content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        [stored] = db.session.scalars(select(ComplaintAttachment)).all()
        assert stored.original_name == "photo.jpg"
    assert "已附" not in client.get("/complaints/new").get_data(as_text=True)


def test_a_kept_attachment_can_be_removed_before_filing(app, client, world):
    data = filing_form(world.cert_a, description="太短")
    data["attachments"] = [(io.BytesIO(png_bytes()), "photo.jpg")]
    page = client.post("/complaints/new", data=data, content_type="multipart/form-data").get_data(as_text=True)
    import re
    staged_id = re.search(r'name="remove_staged" value="([^"]+)"', page).group(1)
    response = client.post("/complaints/new", data=filing_form(world.cert_a, remove_staged=staged_id),
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert _count(app, ComplaintAttachment) == 0
