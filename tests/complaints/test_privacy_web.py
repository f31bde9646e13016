"""Personal data never reaches the public: composed public text, the checked summary, the company's masked view,
and a property over generated personal data and every public surface where complaints appear."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from registry.complaints import services
from registry.complaints.models import Complaint
from registry.extensions import db
from tests.complaints.conftest import file_via_client, sign_in
from tests.conftest import close_app, make_app

DESCRIPTION = ("空调维修三次仍不制冷。我叫王小明，住上海市浦东新区世纪大道8899号B座1701室，"
               "邮箱 x at example.org，电话137.0011.2233。")


@pytest.fixture
def app(tmp_path, backend):
    # The search index is not what these tests look at; a separate indexer keeps examples from waiting on it.
    app = make_app(tmp_path, backend, SEARCH_INDEXER="external")
    yield app
    close_app(app, tmp_path)


def _version(app, tracking):
    with app.app_context():
        return db.session.scalar(select(Complaint.version).where(Complaint.tracking_number == tracking))


def _accept(app, client, world, tracking, **data):
    sign_in(client, world.moderator)
    return client.post(f"/complaints/case/{tracking}/accept", data={"version": _version(app, tracking), **data},
                       follow_redirects=True)


def test_the_company_reads_the_description_with_personal_data_masked(app, client, world):
    tracking, _link = file_via_client(client, world.cert_a, description=DESCRIPTION, email="wxm@example.org")
    _accept(app, client, world, tracking)
    sign_in(client, world.company_a)
    page = client.get(f"/complaints/case/{tracking}").get_data(as_text=True)
    assert "空调维修三次仍不制冷" in page
    for private in ("x at example.org", "wxm@example.org", "世纪大道8899号", "1701室", "137.0011.2233"):
        assert private not in page
    assert "〔已删除〕" in page
    assert "王小明" in page and "+8613812345678" in page   # the contact box: what the company needs to call back
    sign_in(client, world.moderator)
    assert "x at example.org" in client.get(f"/complaints/case/{tracking}").get_data(as_text=True)


def test_the_accept_form_does_not_prefill_the_public_summary_with_the_consumers_text(app, client, world):
    tracking, _link = file_via_client(client, world.cert_a, description=DESCRIPTION)
    sign_in(client, world.moderator)
    page = client.get(f"/complaints/case/{tracking}").get_data(as_text=True)
    textareas = re.findall(r"<textarea[^>]*>([^<]*)</textarea>", page)
    assert textareas and all("空调维修三次" not in t and "王小明" not in t for t in textareas)


def test_a_moderator_summary_with_a_latin_surname_and_an_address_is_refused_with_what_was_found(app, client, world):
    tracking, _link = file_via_client(client, world.cert_a)
    page = _accept(app, client, world, tracking,
                   public_summary="Mr. Wang of 8899 Century Avenue says the repair failed.").get_data(as_text=True)
    assert "个人信息" in page and "Mr. Wang" in page and "8899 Century Avenue" in page
    with app.app_context():
        complaint = db.session.scalar(select(Complaint).where(Complaint.tracking_number == tracking))
        assert complaint.state == "submitted" and complaint.public_summary == ""


def test_a_clean_moderator_summary_is_published_beside_the_composed_text(app, client, world):
    tracking, link = file_via_client(client, world.cert_a, description=DESCRIPTION)
    _accept(app, client, world, tracking, public_summary="空调维修三次仍不制冷。")
    sign_in(client, world.moderator)
    client.post(f"/complaints/case/{tracking}/close",
                data={"version": _version(app, tracking), "outcome": "not_upheld",
                      "public_summary": "空调维修三次仍不制冷。"})
    log = client.get(f"/complaints/{tracking}/log").get_data(as_text=True)
    assert "空调维修三次仍不制冷。" in log and "类别：维修" in log and "消费者要求：换货" in log
    for private in ("王小明", "世纪大道", "example.org", "137.0011.2233", "1701"):
        assert private not in log


# ---------------------------------------------------------------- the property

SURNAMES = "王李张刘陈杨赵黄周吴欧阳"
GIVEN = "晓梓睿琪瑶涵萱泽昊桐"
ROADS = ["世纪大道", "文三路", "长安街", "南京西路", "中山北路"]


def _digits(draw, n):
    return "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=n, max_size=n)))


@st.composite
def personal_data(draw):
    surname = draw(st.sampled_from(["王", "李", "张", "刘", "陈", "欧阳"]))
    name = surname + "".join(draw(st.lists(st.sampled_from(GIVEN), min_size=2, max_size=2)))
    mobile = "1" + draw(st.sampled_from("3456789")) + _digits(draw, 9)
    phone_form = draw(st.sampled_from(["plain", "spaced", "dotted", "fullwidth", "intl", "dashed"]))
    written = {"plain": mobile, "spaced": f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}",
               "dotted": f"{mobile[:3]}.{mobile[3:7]}.{mobile[7:]}",
               "fullwidth": mobile.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
               "intl": f"+86 {mobile}", "dashed": f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"}[phone_form]
    local = "".join(draw(st.lists(st.sampled_from("abcdefghjkmnpqrstuvwxyz"), min_size=4, max_size=8)))
    email = draw(st.sampled_from([f"{local}@example.org", f"{local} at example.org", f"{local}[at]example.com",
                                  f"{local}＠example．cn"]))
    address = f"{draw(st.sampled_from(ROADS))}{draw(st.integers(1, 9999))}号{draw(st.integers(1, 30))}栋{draw(st.integers(101, 3302))}室"
    id_number = "310115" + str(draw(st.integers(1950, 2005))) + f"{draw(st.integers(1, 12)):02d}" + f"{draw(st.integers(1, 28)):02d}" + _digits(draw, 4)
    given_alone = name[len(surname):]
    pieces = draw(st.permutations([f"我叫{name}", f"电话{written}", f"邮箱{email}", f"住{address}",
                                   f"身份证{id_number}", f"{given_alone}说", f"{surname}女士"]))
    return {"name": name, "mobile": mobile, "secrets": [name, mobile, written, email, address, id_number, local],
            "text": "空调维修三次仍不制冷，" + "，".join(pieces) + "。"}


PUBLIC_PAGES = ("/certificates/{cert}", "/complaints/{tracking}/log", "/api/v1/certificates/{cert}/complaints",
                "/ledger.jsonl", "/feeds/changes.atom", "/feeds/certificates/{cert}.atom", "/data/certificates.jsonl",
                "/api/v1/ledger")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pii=personal_data())
def test_no_generated_personal_data_reaches_any_public_page(app, client, world, pii):
    with app.app_context():
        complaint, _token = services.file_complaint(services.FilingData(
            certificate_number=world.cert_a, category="repair", description=pii["text"], purchase_date=None,
            order_number="", desired_resolution="refund", amount=None, name=pii["name"], mobile="+86" + pii["mobile"],
            email="", consent=True))
        from registry.accounts.models import User
        staff = db.session.get(User, world.moderator)
        db.session.commit()
        for attempt in (pii["text"], f"消费者{pii['name']}反映维修问题"):
            try:
                services.accept_complaint(complaint, staff, public_summary=attempt)
            except services.ValidationError:
                db.session.rollback()
            else:
                raise AssertionError(f"summary with personal data was accepted: {attempt}")
        complaint = db.session.get(Complaint, complaint.id)
        services.accept_complaint(complaint, staff, public_summary="空调维修问题。")
        services.close_complaint(complaint, staff, outcome="not_upheld", severity=None, public_summary=None)
        db.session.commit()
        tracking = complaint.tracking_number
    for template in PUBLIC_PAGES:
        response = client.get(template.format(cert=world.cert_a, tracking=tracking))
        assert response.status_code == 200, template
        page = response.get_data(as_text=True)
        for secret in pii["secrets"]:
            assert secret not in page, (template, secret)
        assert pii["mobile"] not in re.sub(r"\D", "", page) or pii["mobile"] not in page
