"""Pure analysis and document functions: folding, grams, pinyin, query splitting, the certificate document."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from registry.search import analysis
from registry.search.documents import certificate_document, level_rank
from registry.search.highlight import highlight, needles_for


@pytest.mark.parametrize(("raw", "folded"), [
    ("海爾電器", "海尔电器"), ("ＴＣＬ王牌", "tcl王牌"), ("Haier", "haier"), ("青島", "青岛"), ("１２３", "123"),
])
def test_fold_turns_traditional_full_width_and_capitals_into_one_form(raw, folded):
    assert analysis.fold(raw) == folded


def test_grams_cover_every_two_character_window_of_letters_and_digits():
    grams = analysis.grams("海澜（家电）")
    assert grams == ["海澜", "澜家", "家电"]
    assert not any("（" in g or "）" in g for g in grams)


@pytest.mark.parametrize(("typed", "expected"), [("澜家电", ["澜家", "家电"]), ("海", ["海"]), ("海澜", ["海澜"]),
                                                 ("!!", [])])
def test_query_grams_are_the_bigrams_a_substring_must_contain(typed, expected):
    assert analysis.query_grams(typed) == expected


def test_words_use_jieba_search_mode_and_drop_punctuation():
    assert {"青岛", "海澜", "家电", "有限公司"} <= set(analysis.words("青島海瀾家電有限公司"))
    assert "（" not in analysis.words("TCL王牌电器（惠州）有限公司")


def test_pinyin_gives_full_and_initials_per_word_without_the_legal_suffix():
    terms = analysis.pinyin("海尔智家股份有限公司")
    assert {"haier", "he", "zhijia", "zj"} <= set(terms)
    assert not any("youxian" in t for t in terms)
    assert "chongqing" in analysis.pinyin("重庆长安汽车服务有限公司")  # context-aware: 重 in 重庆 is chong


@pytest.mark.parametrize(("typed", "words"), [
    ("  海尔   空调 ", ["海尔", "空调"]), ('a:(b "c', ["a", "b", "c"]), ("AND OR", ["and", "or"]),
    ("海尔-空调", ["海尔", "空调"]), ("%_*", []), ("", []),
])
def test_split_query_keeps_runs_of_letters_and_digits_as_words(typed, words):
    assert analysis.split_query(typed) == words


def test_highlight_marks_matches_in_the_original_characters_and_escapes_html():
    assert str(highlight("青島海瀾<b>", needles_for(["海澜"]))) == "青島<mark>海瀾</mark>&lt;b&gt;"
    assert str(highlight("TCL王牌", needles_for(["tcl"]))) == "<mark>TCL</mark>王牌"


def _plain_certificate(**changes):
    company = SimpleNamespace(name="青岛海澜家电有限公司", uscc="91110108000900001H", former_names=["青島老店"],
                              province="山东省", city="青岛市", industry="家电")
    values = dict(id=7, number="99925SV00007R0", scheme_id="gbt27922-2011", level="5", status="valid",
                  scope="空调维修", service_sites=["青岛市市南区服务中心"], issued_on=dt.date(2025, 3, 1),
                  expires_on=dt.date(2028, 2, 29), suspended_until=None, surveillance_due=dt.date(2026, 3, 1),
                  company=company)
    values.update(changes)
    return SimpleNamespace(**values)


def test_document_stores_the_status_rules_inputs_not_a_computed_status():
    doc = certificate_document(_plain_certificate(status="suspended", suspended_until=dt.date(2026, 7, 1)))
    assert doc["status"] == "suspended"
    assert doc["expires"] == dt.date(2028, 2, 29).toordinal()
    assert doc["suspended_until"] == dt.date(2026, 7, 1).toordinal()
    assert doc["surveillance_due"] == dt.date(2026, 3, 1).toordinal()
    assert certificate_document(_plain_certificate())["suspended_until"] == 0
    assert doc["display"]["expires_on"] == "2028-02-29"


def test_document_folds_identifiers_and_indexes_former_names():
    doc = certificate_document(_plain_certificate())
    assert doc["number_key"] == "99925SV00007R0" and doc["uscc_key"] == "91110108000900001H"
    assert "老店" in doc["name_grams"].split()
    assert "hailan" in doc["pinyin"].split()


def test_level_rank_orders_by_stars_across_schemes():
    assert level_rank("gbt27922-2011", "compliant") < level_rank("gbt27922-2011", "3") < level_rank(
        "gbt27922-2011", "5") < level_rank("satisfaction-1000", "7")
    assert level_rank("unknown", "5") == -1
