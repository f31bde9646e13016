"""QR images: decoded by an independent decoder, the decoded URL followed, wrong check codes caught."""
from __future__ import annotations

from registry.certificates import qr
from tests.verify.conftest import decode_qr, local_path


def test_qr_png_decodes_to_the_public_verification_url_with_a_check_code(client, five_star):
    response = client.get(f"/certificates/{five_star}/qr.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    url = decode_qr(response.data)
    assert url.startswith(f"https://registry.test/v/{five_star}?c=")
    assert len(url) < 70  # short URL, small code


def test_following_the_decoded_qr_shows_valid_five_stars_and_a_matching_code(client, five_star):
    url = decode_qr(client.get(f"/certificates/{five_star}/qr.png").data)
    page = client.get(local_path(url)).get_data(as_text=True)
    assert "有效" in page and "五星" in page and "青岛海澜家电有限公司" in page
    assert "此二维码由本平台签发" in page


def test_wrong_check_code_warns_the_qr_was_not_issued_by_the_registry(client, five_star):
    response = client.get(f"/v/{five_star}?c=AAAAAAAA")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "此二维码并非本平台签发" in page
    assert "/verify/report?number=" in page and "reason=mismatch" in page


def test_check_code_of_another_certificate_does_not_match(app, client, five_star):
    with app.app_context():
        other = qr.check_code("99925SV00043R0", qr.check_key(app.config["SECRET_KEY"]))
    assert "此二维码并非本平台签发" in client.get(f"/v/{five_star}?c={other}").get_data(as_text=True)


def test_check_code_is_accepted_in_lower_case(client, five_star):
    url = decode_qr(client.get(f"/certificates/{five_star}/qr.png").data)
    code = url.split("c=")[1]
    assert "此二维码由本平台签发" in client.get(f"/v/{five_star}?c={code.lower()}").get_data(as_text=True)


def test_a_dedicated_qr_secret_changes_every_check_code(tmp_path):
    key_a = qr.check_key("secret-key")
    key_b = qr.check_key("secret-key", "dedicated-qr-secret")
    assert qr.check_code("N1", key_a) != qr.check_code("N1", key_b)
    assert qr.is_valid_check("N1", qr.check_code("N1", key_b), key_b)
    assert not qr.is_valid_check("N1", "", key_b)


def test_qr_svg_is_an_svg_image_with_a_path(client, five_star):
    response = client.get(f"/certificates/{five_star}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data and b"<path" in response.data


def test_qr_images_carry_etag_and_cache_headers_and_answer_304_when_unchanged(client, five_star):
    first = client.get(f"/certificates/{five_star}/qr.png")
    assert first.headers["ETag"] and "max-age" in first.headers["Cache-Control"]
    again = client.get(f"/certificates/{five_star}/qr.png", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_qr_for_an_unknown_certificate_is_404(client):
    assert client.get("/certificates/NOPE123/qr.png").status_code == 404
    assert client.get("/certificates/NOPE123/qr.svg").status_code == 404


def test_qr_uses_error_correction_fit_for_print():
    assert qr.ERROR_CORRECTION in (qr.qrcode.constants.ERROR_CORRECT_Q, qr.qrcode.constants.ERROR_CORRECT_H)
