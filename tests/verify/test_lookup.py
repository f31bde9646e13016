"""The verify box: number, credit code or exact (current or former) name, typed loosely."""
from __future__ import annotations

import pytest

from registry.extensions import db
from tests.factories import make_certificate, make_company, uscc_for


@pytest.fixture
def haier(app_ctx):
    company = make_company(name="青岛海澜家电（集团）有限公司", uscc=uscc_for(900001), former_names=["青岛海澜电器有限公司"])
    cert = make_certificate(company, number="99925SV00077R0")
    db.session.commit()
    return {"number": cert.number, "uscc": company.uscc}


def _lookup(client, q):
    return client.get("/certificates/lookup", query_string={"q": q})


@pytest.mark.parametrize("q", ["99925SV00077R0", " 99925sv00077r0 ", "99925-SV-00077-R0", "９９９２５ＳＶ０００７７Ｒ０"])
def test_certificate_number_typed_loosely_leads_to_the_certificate(client, haier, q):
    response = _lookup(client, q)
    assert response.status_code == 302 and response.headers["Location"].endswith("/certificates/99925SV00077R0")


def test_credit_code_with_spaces_lower_case_and_full_width_leads_to_the_certificate(client, haier):
    uscc = haier["uscc"]
    typed = " ".join([uscc[:6], uscc[6:12].lower(), uscc[12:]])
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in uscc)
    for q in (typed, full_width):
        response = _lookup(client, q)
        assert response.status_code == 302 and response.headers["Location"].endswith("/certificates/99925SV00077R0")


@pytest.mark.parametrize("q", ["青岛海澜家电（集团）有限公司", "青岛海澜家电(集团)有限公司", " 青岛海澜家电 (集团) 有限公司 ", "青岛海澜电器有限公司"])
def test_exact_current_or_former_name_in_either_bracket_width_leads_to_the_certificate(client, haier, q):
    response = _lookup(client, q)
    assert response.status_code == 302


def test_company_with_two_certificates_gives_a_short_list(app, client):
    with app.app_context():
        company = make_company(name="甲乙家电有限公司")
        numbers = [make_certificate(company).number, make_certificate(company).number]
        db.session.commit()
    response = _lookup(client, "甲乙家电有限公司")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and all(number in page for number in numbers)


def test_partial_name_is_not_a_match_but_a_suggestion_never_called_forged(client, haier):
    response = _lookup(client, "海澜")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "99925SV00077R0" in page and "forged" not in page


def test_empty_and_absurd_queries_answer_calmly(client, haier):
    assert _lookup(client, "").status_code == 404
    assert _lookup(client, "-" * 500).status_code == 404
    assert _lookup(client, "x" * 300).status_code == 404
