"""Bulk names are looked up in batches: for every entry, `lookup_many` answers exactly what the verify box's
`lookup` answers one entry at a time (numbers, credit codes, current and former names, typed loosely),
in a few queries for the whole list."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import event

from registry.certificates.services import lookup, lookup_many
from registry.extensions import db
from registry.procurement import bulk
from tests.factories import make_certificate, make_company, uscc_for


def _register():
    """Companies sharing names, brackets written either way, former names, several certificates each."""
    brand = make_company(name="青岛海澜家电（集团）有限公司", uscc=uscc_for(910001), former_names=["青岛海澜电器有限公司"])
    for year, number in ((2023, "99923SV10001R0"), (2025, "99925SV10002R0"), (2024, "99924-SV-10003-R0")):
        make_certificate(brand, number=number, issued_on=dt.date(year, 3, 1))
    for province, n in (("广东省", 910002), ("浙江省", 910003)):
        make_certificate(make_company(name="重名服务有限公司", province=province, uscc=uscc_for(n)))
    renamed = make_company(name="上海新名服务有限公司", uscc=uscc_for(910004), former_names=["上海旧名服务有限公司", "重名服务有限公司"])
    make_certificate(renamed, issued_on=dt.date(2024, 1, 1))
    make_certificate(renamed, issued_on=dt.date(2024, 1, 1))  # same day: the id breaks the tie
    shared_former = make_company(name="杭州甲服务有限公司", uscc=uscc_for(910005), former_names=["杭州老字号服务有限公司"])
    make_certificate(shared_former)
    make_certificate(make_company(name="杭州乙服务有限公司", uscc=uscc_for(910006), former_names=["杭州老字号服务有限公司"]))
    make_company(name="没有证书的公司", uscc=uscc_for(910007))
    many = make_company(name="多证书服务有限公司", uscc=uscc_for(910008))
    for n in range(14):
        make_certificate(many, issued_on=dt.date(2020, 1, 1) + dt.timedelta(days=30 * n))
    db.session.commit()
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in uscc_for(910001))
    return [
        "99923SV10001R0", " 99925sv10002r0 ", "９９９２５ＳＶ１０００２Ｒ０", "99924-SV-10003-R0", "99924SV10003R0",
        "99924 sv 10003 r0", uscc_for(910001), uscc_for(910001).lower(), full_width, uscc_for(910007),
        uscc_for(999999), "青岛海澜家电（集团）有限公司", "青岛海澜家电(集团)有限公司", " 青岛海澜家电 (集团) 有限公司 ",
        "青岛海澜电器有限公司", "重名服务有限公司", "上海旧名服务有限公司", "上海新名服务有限公司", "杭州老字号服务有限公司",
        "没有证书的公司", "多证书服务有限公司", "不存在的公司", "---", "   ", "", "x" * 300, "%", "_", "9",
    ]


def test_batched_lookup_answers_each_entry_as_the_single_lookup_does(app_ctx):
    queries = _register()
    batched = lookup_many(queries, limit=bulk.MAX_CANDIDATES + 1)
    assert set(batched) == set(queries)
    found = 0
    for query in queries:
        single = [c.id for c in lookup(query, limit=bulk.MAX_CANDIDATES + 1)]
        assert [c.id for c in batched[query]] == single, query
        found += bool(single)
    assert found == 18  # the table exercises hits at every step, not only misses


def test_a_thousand_names_cost_a_few_queries(app_ctx):
    _register()
    names = [f"不存在的公司{n}" for n in range(990)] + ["重名服务有限公司", "上海旧名服务有限公司"] * 5
    statements = []
    engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        result = bulk.verify_identifiers(names)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert result.counts() == {"exact": 5, "ambiguous": 5, "not_found": 990}
    assert len(statements) <= 30, len(statements)
