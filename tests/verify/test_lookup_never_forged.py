"""The verify box never calls a registered company's mark forged: a table over the demo register of the ways
people mistype or shorten what they read (partial names, short numbers, other widths and cases, former names)."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from registry.certificates.models import Certificate, Company
from registry.extensions import db
from tests.factories import make_certificate, make_company, uscc_for

FORGED = ("可能是伪造的", "may be forged")


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def _variants(name: str, number: str, uscc: str, former: list[str], city: str) -> list[str]:
    prefix = city.removesuffix("市")
    bare = name.removeprefix(prefix)
    brand = bare[:2]
    out = [brand, bare, bare[:4], name[:-4], name[:6], brand + "电器", brand + "电器有限公司", prefix + brand,
           number[:-1], number[:-2], number[:-3], number.lower(), _full_width(number[:-2]), number[:-2].lower(),
           uscc[:-1], uscc[:-4], uscc.lower()[:-2], _full_width(uscc[:-3]), _full_width(name)]
    for old in former:
        out += [old, old[:-4], old.removeprefix(prefix)[:2]]
    return [v for v in dict.fromkeys(out) if v.strip()]


@pytest.fixture
def demo(app, runner):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        rows = db.session.scalars(select(Certificate)).all()
        return [(c.company.name, c.number, c.company.uscc, list(c.company.former_names or []), c.company.city)
                for c in rows]


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_no_mistyped_entry_for_a_registered_company_is_ever_called_forged(client, demo, lang):
    failures = []
    for name, number, uscc, former, city in demo[::3]:
        for q in _variants(name, number, uscc, former, city):
            response = client.get("/certificates/lookup", query_string={"q": q, "lang": lang})
            page = response.get_data(as_text=True)
            if response.status_code not in (200, 302) or any(word in page for word in FORGED):
                failures.append((q, response.status_code))
    assert not failures, failures[:20]


def test_partial_names_from_the_issue_lead_to_the_company_with_a_search_link(app, client):
    with app.app_context():
        lingsheng = make_certificate(make_company(name="贵阳翎晟装饰材料有限责任公司"))
        lanchuan = make_certificate(make_company(name="杭州澜川家用电器有限公司", former_names=["杭州澜川电器厂"]))
        db.session.commit()
        numbers = (lingsheng.number, lanchuan.number)
    for q, number in (("翎晟", numbers[0]), ("澜川电器", numbers[1]), ("澜川电器有限公司", numbers[1]),
                      ("澜川电器厂", numbers[1]), (numbers[0][:-2], numbers[0])):
        page = client.get("/certificates/lookup", query_string={"q": q}).get_data(as_text=True)
        assert number in page and "您要找的是不是" in page and "伪造" not in page, q
        assert "/search?q=" in page


def test_ascii_name_in_another_width_or_case_is_a_suggestion(app, client):
    with app.app_context():
        cert = make_certificate(make_company(name="TCL翎鸣电器有限公司"))
        db.session.commit()
        number = cert.number
    for q in ("tcl翎鸣", "ＴＣＬ翎鸣电器", "Tcl 翎鸣"):
        page = client.get("/certificates/lookup", query_string={"q": q, "lang": "en"}).get_data(as_text=True)
        assert number in page and "may be forged" not in page, q


def test_a_complete_unregistered_identifier_is_called_possibly_forged_with_a_search_link(app, client):
    with app.app_context():
        make_certificate(make_company(name="贵阳翎晟装饰材料有限责任公司"))
        db.session.commit()
    for q in ("99925SV99999R0", uscc_for(777777), "上海无此企业电器有限公司"):
        response = client.get("/certificates/lookup", query_string={"q": q})
        page = response.get_data(as_text=True)
        assert response.status_code == 404 and "可能是伪造的" in page and "/search?q=" in page, q


def test_an_unmatched_fragment_is_not_called_forged(app, client):
    response = client.get("/certificates/lookup", query_string={"q": "无此", "lang": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "may be forged" not in page and "whole certificate number" in page


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(cut=st.integers(min_value=1, max_value=6), start=st.integers(min_value=0, max_value=4))
def test_any_slice_of_a_registered_name_or_number_is_never_forged(app_ctx, cut, start):
    if db.session.scalar(select(Company).where(Company.name == "宁波沐远家电有限公司")) is None:
        make_certificate(make_company(name="宁波沐远家电有限公司", uscc=uscc_for(880088)), number="99925SV00123R0")
        db.session.commit()
    client = app_ctx.test_client()
    for whole in ("宁波沐远家电有限公司", "99925SV00123R0", uscc_for(880088)):
        q = whole[start:len(whole) - cut]
        page = client.get("/certificates/lookup", query_string={"q": q}).get_data(as_text=True)
        assert "可能是伪造的" not in page, q
