"""A brand typed in pinyin is always found: over generated company names (place + brand + trade + legal form),
the full pinyin and the initials of the name's distinctive part, and of the brand alone, find the company."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import lazy_pinyin

from registry.extensions import db
from registry.search import analysis
from tests.search.conftest import add_certificate
from tests.search.test_search_page import result_names

PLACES = [("山东省", "青岛市"), ("上海市", "上海市"), ("广东省", "深圳市"), ("浙江省", "杭州市"), ("四川省", "成都市"),
          ("广西壮族自治区", "南宁市"), ("重庆市", "重庆市")]
# Characters jieba and pypinyin handle in many ways: rare pairs, heteronyms (长, 重, 行, 乐), common words.
BRAND_CHARS = "夏菲劳澜湾尔美格力康佳创维长虹奥克斯志高新飞华帝方太樱雪博世重行乐朗晟琪瑞祥鑫"
TRADES = ["家电", "电器", "电子科技", "空调服务", "厨具", "汽车服务", ""]
FORMS = ["有限公司", "股份有限公司", "有限责任公司", "集团有限公司", "（中国）有限公司"]


def generated_names(count: int, seed: int):
    rnd = random.Random(seed)
    seen = set()
    while len(seen) < count:
        province, city = rnd.choice(PLACES)
        place = rnd.choice([province, city, city[:-1], province[:2], ""])
        brand = "".join(rnd.choice(BRAND_CHARS) for _ in range(rnd.choice((2, 3, 3, 4))))
        name = f"{place}{brand}{rnd.choice(TRADES)}{rnd.choice(FORMS)}"
        if brand not in {b for _, b, _, _ in seen}:
            seen.add((name, brand, province, city))
    return sorted(seen)


def full_and_initials(text: str) -> tuple[str, str]:
    syllables = lazy_pinyin(text, errors="ignore")
    return "".join(syllables), "".join(s[0] for s in syllables)


def test_distinctive_part_drops_places_and_legal_forms():
    assert analysis.distinctive_part("上海夏菲劳家电有限公司") == "夏菲劳家电"
    assert analysis.distinctive_part("广东省深圳市夏菲劳家电（深圳）集团有限公司", ("广东省", "深圳市")) == "夏菲劳家电"
    assert analysis.distinctive_part("夏菲劳（中国）有限公司") == "夏菲劳"
    assert analysis.distinctive_part("北京有限公司") == "北京"  # never cut to nothing
    assert {"xiafeilao", "xfl", "xiafeilaojiadian", "xfljd"} <= set(analysis.pinyin("上海夏菲劳家电有限公司"))


@pytest.mark.parametrize("seed", [1, 2])
def test_full_pinyin_and_initials_of_the_distinctive_part_and_the_brand_find_the_company(app, client, seed):
    app.config["SEARCH_PER_PAGE"] = 100
    names = generated_names(40, seed)
    with app.app_context():
        for name, _brand, province, city in names:
            add_certificate({"name": name, "province": province, "city": city})
        db.session.commit()
    missed = []
    for name, brand, province, city in names:
        part = analysis.distinctive_part(name, (province, city))
        assert brand in part and not part.endswith("公司")
        queries = {*full_and_initials(part), full_and_initials(brand)[0]}
        if len(brand) >= 3:
            queries.add(full_and_initials(brand)[1])
        for typed in queries:
            found = result_names(client.get("/search", query_string={"q": typed}).get_data(as_text=True))
            if name not in found:
                missed.append((typed, name))
    assert missed == []


@settings(max_examples=300, deadline=None)
@given(pair=st.sampled_from(PLACES), which=st.sampled_from(["province", "city", "short city", "short province", ""]),
       brand=st.text(alphabet=BRAND_CHARS, min_size=2, max_size=4),
       trade=st.sampled_from(TRADES), form=st.sampled_from(FORMS), latin=st.sampled_from(["", "TCL", "Acme"]))
def test_any_generated_name_indexes_its_distinctive_part_and_brand_in_full_and_initials(pair, which, brand, trade,
                                                                                        form, latin):
    province, city = pair
    place = {"province": province, "city": city, "short city": city[:-1], "short province": province[:2],
             "": ""}[which]
    name = f"{place}{latin}{brand}{trade}{form}"
    terms = set(analysis.pinyin(name, pair))
    part = analysis.distinctive_part(name, pair)
    assert part.startswith(latin.lower() + brand)
    assert set(full_and_initials(part)) <= terms
    # The brand as read inside the name (a heteronym reads by its neighbours, as pypinyin reads the name).
    syllables = [s for s in lazy_pinyin(part, errors="ignore") if s.isalpha() and s.isascii()][:len(brand)]
    assert "".join(syllables) in terms and "".join(s[0] for s in syllables) in terms
