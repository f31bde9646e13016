"""Each cause of a 5xx the penetration sweep found, and each item of its list of small gaps, as a test."""
from __future__ import annotations

import io
import os

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from registry.complaints import uploads
from registry.complaints.models import ComplaintAttachment
from registry.extensions import db
from registry.http import is_safe_path, safe_next
from tests.complaints.conftest import filing_form, png_bytes
from tests.hardening.conftest import login
from tests.office.helpers import sheet_data

BEYOND_SQLITE = "9223372036854775808"
BEYOND_POSTGRES = "2147483648"


@pytest.mark.parametrize("number", [BEYOND_POSTGRES, BEYOND_SQLITE, "9" * 5000])
@pytest.mark.parametrize("path", ["/complaints/attachments/{n}", "/office/companies/{n}", "/office/companies/{n}/edit",
                                  "/office/audits/{n}", "/complaints/sanctions/{n}"])
def test_an_id_beyond_the_integer_column_is_404_on_every_backend(client, people, path, number):
    login(client, people["admin"][1])
    assert client.get(path.format(n=number)).status_code == 404


def test_an_id_beyond_the_range_in_a_post_action_is_404(client, people):
    login(client, people["officer"][1])
    assert client.post(f"/office/audits/{BEYOND_SQLITE}/issue", data={"reason": "x"}).status_code == 404
    assert client.post(f"/complaints/sanctions/{BEYOND_POSTGRES}/decide", data={}).status_code == 404


def test_the_language_switch_with_an_encoded_newline_goes_home(client):
    response = client.get("/lang/en?next=/%0A")
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/\n", "/a\r\nSet-Cookie: x=1", "/\u202eevil", "//evil.example",
                                    "/\\evil.example", "https://evil.example/", "javascript:alert(1)"])
def test_the_language_switch_never_redirects_off_site_or_with_control_characters(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_the_language_switch_goes_back_to_a_safe_page(client):
    response = client.get("/lang/en", query_string={"next": "/search?q=空调"})
    assert response.headers["Location"] == "/search?q=%E7%A9%BA%E8%B0%83"


@pytest.mark.parametrize("target,expected", [
    ("/office", True), ("/search?q=a", True), ("", False), (None, False), ("office", False), ("//x", False),
    ("/\x00", False), ("/\x7f", False), ("/\u2028", False), ("/\u200b", False), ("http://x/", False),
    ("/a\\b", False)])
def test_safe_next_is_one_rule(target, expected):
    assert is_safe_path(target) is expected
    assert safe_next(target, "/home") == (target if expected else "/home")


def test_login_next_with_a_newline_lands_on_the_default_page(client, people):
    response = login(client, people["officer"][1], next="/office\n")
    assert response.status_code == 302 and response.headers["Location"] == "/office"


def test_json_nested_a_thousand_deep_is_refused_without_a_500(client):
    body = '{"identifiers": ' + "[" * 1000 + "]" * 1000 + "}"
    response = client.post("/api/v1/verify", data=body, content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.get_json()["error"]["code"] in ("invalid", "bad_request")


def test_json_nested_beyond_the_limit_but_parseable_is_refused(client):
    body = '{"identifiers": ["a"], "on": ' + "[" * 30 + "]" * 30 + "}"
    response = client.post("/api/v1/verify", data=body, content_type="application/json")
    assert response.status_code in (400, 422)


@pytest.mark.parametrize("text", ["\\ud800", "a\\u0000b", "\\udfff\\ud800"])
def test_json_strings_with_nul_or_unpaired_surrogates_are_refused(client, people, text):
    body = '{"identifiers": ["' + people["certificate"] + '", "' + text + '"], "receipt": true}'
    response = client.post("/api/v1/verify", data=body, content_type="application/json")
    assert response.status_code in (400, 422) and response.get_json()["error"]["message"]


def test_a_json_body_beyond_the_size_limit_is_413(app, client):
    body = '{"identifiers": ["' + "a" * (app.config["JSON_MAX_BYTES"] + 10) + '"]}'
    response = client.post("/api/v1/verify", data=body, content_type="application/json")
    assert response.status_code == 413 and response.get_json()["error"]["code"]


@pytest.mark.parametrize("body", ["[1]", '"x"', "[" * 1000 + "]" * 1000, '{"email": {"a": 1}}'])
def test_a_json_body_sent_to_a_form_is_415_not_a_crash(client, body):
    response = client.post("/login", data=body, content_type="application/json")
    assert response.status_code == 415
    assert "格式" in response.get_data(as_text=True)


def test_verify_refuses_a_null_date(client, people):
    response = client.post("/api/v1/verify", json={"identifiers": [people["certificate"]], "on": None})
    assert response.status_code == 422 and "on" in response.get_json()["error"]["fields"]


def test_a_control_character_in_a_bulk_xlsx_export_is_replaced_not_a_500(client, people):
    response = client.post("/verify/bulk/export.xlsx", data={"identifiers": f"a\x1bb\n{people['certificate']}"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    texts = [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert any("a\ufffdb" in text for text in texts) and not any("\x1b" in text for text in texts)


@pytest.mark.parametrize("value", ["9" * 1000, "1" + "0" * 30, "-" + "9" * 400])
def test_a_huge_special_deductions_count_is_a_field_error(client, people, value):
    login(client, people["officer"][1])
    response = client.post(f"/office/companies/{people['company_id']}/audits/new",
                           data=sheet_data(special_deductions=value, preview="1"))
    assert response.status_code == 422
    assert "不是有效的整数" in response.get_data(as_text=True)


def test_a_405_names_the_allowed_methods(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"POST"}


def test_open_data_csv_names_its_charset_once(client, people):
    response = client.get("/data/certificates.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].lower().count("charset") == 1


def test_the_private_tracking_page_is_never_stored(client, people):
    data = filing_form(people["certificate"])
    response = client.post("/complaints/new", data=data)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    link = "/complaints/TS" + page.split('href="/complaints/TS')[1].split('"')[0].replace("&amp;", "&")
    tracked = client.get(link)
    assert tracked.status_code == 200 and "no-store" in tracked.headers["Cache-Control"]


def test_pages_seen_signed_in_are_not_stored(client, people):
    public_path = f"/certificates/{people['certificate']}/qr.svg"
    assert "public" in client.get(public_path).headers["Cache-Control"]
    login(client, people["officer"][1])
    assert "no-store" in client.get("/office").headers["Cache-Control"]
    seen_signed_in = client.get(public_path)
    assert seen_signed_in.status_code == 200 and seen_signed_in.headers["Cache-Control"] == "private, no-store"


def test_hsts_is_sent_when_configured(tmp_path):
    from tests.conftest import close_app, make_app
    app = make_app(tmp_path, HSTS_SECONDS=31536000)
    try:
        assert app.test_client().get("/").headers["Strict-Transport-Security"].startswith("max-age=31536000")
    finally:
        close_app(app, tmp_path)


def test_no_hsts_by_default(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_creating_watch_feeds_is_rate_limited(tmp_path):
    from tests.conftest import close_app, make_app
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, WATCH_RATE_LIMIT="2 per hour")
    try:
        client = app.test_client()
        answers = [client.post("/feeds/watch", data={"usccs": "x"}).status_code for _ in range(3)]
        assert answers[-1] == 429 and 429 not in answers[:2]
    finally:
        close_app(app, tmp_path)


# ---------------------------------------------------------------- uploads

@pytest.mark.parametrize("raw,expected", [
    ("receipt.png", "receipt.png"), ("a\x00b.png", "ab.png"), ("invoice\u202egnp.exe", "invoicegnp.exe"),
    ("C:\\fakepath\\photo.jpg", "photo.jpg"), ("../../etc/passwd", "passwd"), ("\u200b\u2066.png", "png"),
    ("   ", "file"), ("a\nb\r.pdf", "ab.pdf"), ("x" * 500 + ".pdf", "x" * 116 + ".pdf")])
def test_file_names_are_cleaned_once_before_storing(raw, expected):
    assert uploads.clean_name(raw) == expected


def test_an_attachment_named_with_nul_and_a_bidi_override_is_stored_clean(app, client, people):
    data = filing_form(people["certificate"])
    data["attachments"] = [(io.BytesIO(png_bytes()), "收据\u202e\x00gnp.exe.png")]
    response = client.post("/complaints/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        attachment = db.session.scalars(select(ComplaintAttachment)).one()
        names, attachment_id = [attachment.original_name], attachment.id
    assert names == ["收据gnp.exe.png"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    token = page.split("token=")[1].split('"')[0].split("&")[0]
    download = client.get(f"/complaints/attachments/{attachment_id}?token={token}")
    assert download.status_code == 200
    disposition = download.headers["Content-Disposition"]
    assert "\u202e" not in disposition and "%E2%80%AE" not in disposition.upper()


def test_a_complaint_image_of_more_than_40_megapixels_is_refused(app, client, people):
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("1", (8000, 6000)).save(buffer, "PNG")  # 48 megapixels, a few kilobytes
    data = filing_form(people["certificate"])
    data["attachments"] = [(io.BytesIO(buffer.getvalue()), "huge.png")]
    response = client.post("/complaints/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(ComplaintAttachment.id)) is None


def _files_under(folder: str) -> list[str]:
    return [os.path.join(d, f) for d, _dirs, files in os.walk(folder) for f in files]


def _complaint(number: str):
    from registry.certificates.models import Certificate
    from tests.complaints.test_services import make_complaint
    complaint, _token = make_complaint(db.session.scalar(select(Certificate).where(Certificate.number == number)))
    return complaint


def test_an_upload_whose_transaction_rolls_back_leaves_no_file(app, people):
    with app.app_context():
        complaint = _complaint(people["certificate"])
        db.session.commit()
        checked = uploads.check("p.png", png_bytes(), 10**6)
        stored = uploads.store(app.config["UPLOAD_DIR"], complaint.id, checked)
        assert os.path.exists(uploads.path_of(app.config["UPLOAD_DIR"], stored))
        db.session.rollback()
        assert not os.path.exists(uploads.path_of(app.config["UPLOAD_DIR"], stored))


def test_an_upload_whose_transaction_commits_keeps_its_file(app, people):
    with app.app_context():
        complaint = _complaint(people["certificate"])
        db.session.flush()
        checked = uploads.check("p.png", png_bytes(), 10**6)
        stored = uploads.store(app.config["UPLOAD_DIR"], complaint.id, checked)
        db.session.add(ComplaintAttachment(complaint=complaint, uploaded_by_role="consumer", original_name="p.png",
                                           stored_name=stored, content_type=checked.content_type,
                                           size=len(checked.data), sha256=checked.sha256))
        db.session.commit()
        db.session.rollback()
        assert os.path.exists(uploads.path_of(app.config["UPLOAD_DIR"], stored))
