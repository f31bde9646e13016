"""The search page finds what people type: a relevance table, identifiers, facets, sorting, paging."""
from __future__ import annotations

import re

import pytest

from registry.extensions import db
from tests.search.conftest import HAILAN_USCC, add_certificate


def result_names(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", name) for name in re.findall(r'class="cert-link"[^>]*>(.*?)</a>', page)]


def search_page(client, **params) -> str:
    response = client.get("/search", query_string=params)
    assert response.status_code == 200
    return response.get_data(as_text=True)


RELEVANCE_TABLE = [
    # (what a person types, the company expected first)
    ("青岛海澜家电有限公司", "青岛海澜家电有限公司"),   # the full simplified name
    ("青島海瀾家電", "青岛海澜家电有限公司"),           # traditional characters
    ("海澜", "青岛海澜家电有限公司"),                   # 2-character substring (also inside 珠海澜湾…)
    ("澜家电", "青岛海澜家电有限公司"),                 # 3-character substring across jieba words
    ("海爾", "海尔智家股份有限公司"),                   # traditional brand
    ("青岛海尔股份", "海尔智家股份有限公司"),           # former name (stored in traditional characters)
    ("老字号", "远景售后服务有限公司"),                 # former name only
    ("haier", "海尔智家股份有限公司"),                  # pinyin, full
    ("hl", "青岛海澜家电有限公司"),                     # pinyin initials of 海澜
    ("空调 维修", "北京清风空调服务有限公司"),          # scope words, the name matches too
    ("TCL王牌", "TCL王牌电器（惠州）有限公司"),         # mixed Latin and Chinese
    ("ｔｃｌ 电视机", "TCL王牌电器（惠州）有限公司"),   # full-width Latin + a scope word
    ("惠州", "TCL王牌电器（惠州）有限公司"),            # a city
    ("99925sv90006r0 ", "远景售后服务有限公司"),        # number in lower case (exact: redirect handled below)
]


@pytest.mark.parametrize(("typed", "expected_first"), RELEVANCE_TABLE)
def test_relevance_table_first_result(client, register, typed, expected_first):
    response = client.get("/search", query_string={"q": typed})
    if response.status_code == 302:  # exact identifiers go straight to the certificate
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert expected_first in page
        return
    names = result_names(response.get_data(as_text=True))
    assert names, f"nothing found for {typed!r}"
    assert names[0] == expected_first


def test_two_character_substring_also_finds_the_like_match_but_ranks_the_word_match_first(client, register):
    names = result_names(search_page(client, q="海澜"))
    assert names[:2] == ["青岛海澜家电有限公司", "珠海澜湾电子科技有限公司"]


@pytest.mark.parametrize("typed", [
    HAILAN_USCC, HAILAN_USCC.lower(), " ".join([HAILAN_USCC[:4], HAILAN_USCC[4:10], HAILAN_USCC[10:]]),
    "".join(chr(ord(ch) + 0xFEE0) for ch in HAILAN_USCC),  # full-width digits and letters
    f"{HAILAN_USCC[:6]}-{HAILAN_USCC[6:]}",
])
def test_uscc_in_odd_formats_goes_straight_to_the_certificate(client, register, typed):
    response = client.get("/search", query_string={"q": typed})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/certificates/99925SV90001R0")


@pytest.mark.parametrize("typed", ["99925SV90004R0", "99925 sv 90004 r0", "９９９２５ＳＶ９０００４Ｒ０", "99925-SV-90004-R0"])
def test_certificate_number_in_odd_formats_goes_straight_to_the_certificate(client, register, typed):
    response = client.get("/search", query_string={"q": typed})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/certificates/99925SV90004R0")


def test_uscc_of_a_company_with_two_certificates_lists_both(app, client, register):
    with app.app_context():
        from registry.certificates.models import Company
        from registry.search.outbox import queue_certificate
        from tests.factories import make_certificate
        company = db.session.scalar(db.select(Company).where(Company.uscc == HAILAN_USCC))
        second = make_certificate(company, number="99925SV90099R0", scheme_id="satisfaction-1000", level="7")
        queue_certificate(second.id)
        db.session.commit()
    response = client.get("/search", query_string={"q": HAILAN_USCC})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "99925SV90001R0" in page and "99925SV90099R0" in page


def test_matches_are_highlighted_in_the_stored_characters(client, register):
    page = search_page(client, q="海瀾")
    assert "青岛<mark>海澜</mark>家电有限公司" in page


def test_suspended_and_revoked_results_are_plainly_marked(client, register):
    page = search_page(client, q="杭州")
    assert "暂停" in page and "撤销" in page
    assert page.count('class="status-warning"') == 2
    assert "hit-suspended" in page and "hit-revoked" in page


def test_expired_is_computed_from_today_not_stored(client, register):
    page = search_page(client, q="南京过期")
    assert "过期" in page
    page = search_page(client, status="expired")
    assert result_names(page) == ["南京过期电器有限公司"]
    assert "南京过期电器有限公司" not in result_names(search_page(client, status="valid"))


def test_facets_show_counts_and_filters_narrow_results(client, register):
    page = search_page(client, q="电器")
    assert re.search(r"浙江省</a> <span class=\"count\">\(2\)</span>", page)
    filtered = search_page(client, q="电器", province="浙江省")
    assert sorted(result_names(filtered)) == ["杭州撤销电器有限公司", "杭州暂停电器有限公司"]
    assert "remove-filter" in filtered


def test_level_facet_and_filter(client, register):
    page = search_page(client, level="5")
    assert sorted(result_names(page)) == ["海尔智家股份有限公司", "青岛海澜家电有限公司"]
    assert "五星" in page


def test_sort_by_level_puts_five_stars_first(client, register):
    names = result_names(search_page(client, q="有限公司", sort="level"))
    assert set(names[:2]) == {"海尔智家股份有限公司", "青岛海澜家电有限公司"}


def test_sort_by_issue_date_puts_newest_first(app, client, register):
    import datetime as dt
    with app.app_context():
        add_certificate({"name": "最新电器有限公司"}, issued_on=dt.date(2026, 5, 1))
        db.session.commit()
    assert result_names(search_page(client, q="电器", sort="issued"))[0] == "最新电器有限公司"


def test_empty_query_browses_everything_newest_first(client, register):
    page = search_page(client)
    assert "9 " in page or "9" in re.sub(r"\s+", "", page)
    assert len(result_names(page)) == 9


def test_pagination_keeps_query_and_filters(app, client):
    with app.app_context():
        for n in range(25):
            add_certificate({"name": f"翻页测试电器有限公司{n:02d}", "province": "河北省"})
        db.session.commit()
    first = search_page(client, q="翻页", province="河北省")
    assert len(result_names(first)) == 20
    assert 'rel="next"' in first and "province=" in first and "q=" in first
    second = search_page(client, q="翻页", province="河北省", page=2)
    assert len(result_names(second)) == 5
    assert not set(result_names(first)) & set(result_names(second))


@pytest.mark.parametrize("odd", ['a:(b', 'AND OR NOT', '"unclosed', "*", "海澜 AND (", "\\", "%_%", "<script>",
                                 "title:海尔", "海" * 500, "''", "NOT 海澜"])
def test_odd_query_syntax_is_plain_text_never_an_error(client, register, odd):
    response = client.get("/search", query_string={"q": odd, "page": "x", "sort": "bogus", "status": "nope"})
    assert response.status_code == 200
    assert "<script>" not in response.get_data(as_text=True).split("<main", 1)[1]


def test_search_page_in_english(client, register):
    client.set_cookie("lang", "en")
    page = search_page(client, q="海尔")
    assert "Search certificates" in page and "Five stars" in page


def test_nav_links_to_search(client):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/search"' in page
