"""Search benchmark: our Whoosh index vs a SQLite FTS5 baseline (Python-made character bigrams), same data.

    PYTHONPATH=. python benchmarks/search.py [--certificates 100000] [--queries 300] [--pinyin-cost]

Goals (benchmarks/goals.py, issue 14): rebuild ≤ 20 s and filtered p95 ≤ 10 ms at 100,000 certificates
(≤ 25 ms at 1,000,000), a web worker ≤ 200 MB RSS after a search, and a brand typed in full pinyin
never without hits and always finding its company.

Builds a synthetic register in a fresh SQLite database (a temporary directory), then reports in one run:
index build time and size, and median / p95 latency of 1–3 word queries without filters, with filters,
and with sorting, for both engines. Our figures include what the page needs: exact total, facet counts
and one page of hits; the baseline computes the total and one page (no facets). Each case starts with
cold term sets (cleared), so every first read of a term's postings is inside the figures; the filter and
facet sets and sort orders are warm (their one-off cost after each index change is reported separately).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.goals import goal_line, record

CITIES = [("北京市", "北京市"), ("上海市", "上海市"), ("广东省", "广州市"), ("广东省", "深圳市"), ("广东省", "珠海市"),
          ("山东省", "青岛市"), ("山东省", "济南市"), ("浙江省", "杭州市"), ("浙江省", "宁波市"), ("江苏省", "南京市"),
          ("江苏省", "苏州市"), ("四川省", "成都市"), ("湖北省", "武汉市"), ("重庆市", "重庆市"), ("天津市", "天津市"),
          ("福建省", "厦门市"), ("河南省", "郑州市"), ("湖南省", "长沙市"), ("安徽省", "合肥市"), ("辽宁省", "沈阳市")]
BRAND_CHARS = "海澜尔美格力康佳创维长虹奥克斯志高新飞华帝方太老板万和樱雪博世西门子松下夏普索尼日立东芝三洋惠而浦伊莱克斯"
INDUSTRIES = [("家电", "家电"), ("电子", "电子"), ("暖通", "空调"), ("厨电", "厨具"), ("家居", "家具"), ("汽车", "汽车服务"),
              ("通信", "通信设备"), ("物流", "物流"), ("零售", "商贸"), ("医疗器械", "医疗设备")]
SUFFIXES = ["有限公司", "股份有限公司", "有限责任公司", "集团有限公司"]
SCOPES = ["{p}的配送、安装、维修及退换货服务", "{p}的售后维修与保养", "{p}的送货、安装和技术支持", "{p}的销售及售后服务"]
PRODUCTS = ["空调", "冰箱", "洗衣机", "电视机", "热水器", "油烟机", "手机", "电脑", "家具", "汽车", "净水器", "医疗设备"]
LATIN = ["TCL", "Midea", "Haier", "Gree", "Hisense", "ACME", "Sunny", "Orient"]


def synthetic_rows(n: int, seed: int = 7):
    """(company, certificate) tuples of plain values."""
    rnd = random.Random(seed)
    for i in range(1, n + 1):
        province, city = rnd.choice(CITIES)
        industry, word = rnd.choice(INDUSTRIES)
        brand = "".join(rnd.choice(BRAND_CHARS) for _ in range(rnd.choice((2, 2, 3))))
        latin = rnd.choice(LATIN) if rnd.random() < 0.08 else ""
        name = f"{city[:-1]}{latin}{brand}{word}{rnd.choice(SUFFIXES)}"
        former = [f"{city[:-1]}{rnd.choice(BRAND_CHARS)}{brand}{word}厂"] if rnd.random() < 0.1 else []
        product = rnd.choice(PRODUCTS)
        issued = dt.date(2021, 1, 1) + dt.timedelta(days=rnd.randrange(0, 5 * 365))
        status = rnd.choices(["valid", "suspended", "revoked", "withdrawn"], [90, 4, 3, 3])[0]
        level = rnd.choices(["compliant", "3", "4", "5"], [20, 35, 30, 15])[0]
        yield ({"id": i, "name": name, "uscc": f"91{i:016d}", "former_names": former, "province": province,
                "city": city, "industry": industry, "_brand": brand},
               {"id": i, "number": f"999{issued.year % 100:02d}SV{i:06d}R0", "company_id": i,
                "scheme_id": "gbt27922-2011", "level": level, "status": status,
                "scope": rnd.choice(SCOPES).format(p=product), "service_sites": [f"{city}{product}服务中心"],
                "issued_on": issued, "expires_on": issued + dt.timedelta(days=3 * 365 - 1)})


def load_database(app, rows) -> None:
    from registry.certificates.models import Certificate, Company
    from registry.extensions import db
    with app.app_context():
        db.create_all()
        companies, certificates = [], []
        for company, certificate in rows:
            companies.append({**{k: v for k, v in company.items() if not k.startswith("_")}, "address": "",
                              "enterprise_type": "production"})
            certificates.append({**certificate, "first_issued_on": certificate["issued_on"]})
        for start in range(0, len(companies), 5000):
            db.session.execute(db.insert(Company), companies[start:start + 5000])
            db.session.execute(db.insert(Certificate), certificates[start:start + 5000])
        db.session.commit()


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# -- the FTS5 baseline --------------------------------------------------------------

def bigrams(text: str) -> str:
    from registry.search import analysis
    chars = analysis.compact(text)
    if len(chars) == 1:
        return chars
    return " ".join(chars[i:i + 2] for i in range(len(chars) - 1))


def build_fts(path: Path, rows) -> float:
    started = time.perf_counter()
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE base (id INTEGER PRIMARY KEY, province TEXT, level TEXT, status TEXT, "
                "issued INTEGER, expires INTEGER, level_rank INTEGER)")
    con.execute("CREATE VIRTUAL TABLE fts USING fts5(names, scope, places, tokenize='unicode61')")
    ranks = {"compliant": 0, "3": 3, "4": 4, "5": 5}
    base, fts = [], []
    for company, cert in rows:
        base.append((cert["id"], company["province"], cert["level"], cert["status"], cert["issued_on"].toordinal(),
                     cert["expires_on"].toordinal(), ranks[cert["level"]]))
        names = " ".join(bigrams(n) for n in [company["name"], *company["former_names"]])
        places = " ".join(bigrams(p) for p in [company["province"], company["city"], company["industry"],
                                               *cert["service_sites"]])
        fts.append((cert["id"], names, bigrams(cert["scope"]), places))
    con.executemany("INSERT INTO base VALUES (?,?,?,?,?,?,?)", base)
    con.executemany("INSERT INTO fts(rowid, names, scope, places) VALUES (?,?,?,?)", fts)
    con.execute("CREATE INDEX base_province ON base(province)")
    con.execute("CREATE INDEX base_status ON base(status, expires)")
    con.commit()
    con.close()
    return time.perf_counter() - started


def fts_query(con, words, filters, sort, today_ordinal):
    match = " AND ".join("(" + " AND ".join(f'"{g}"' for g in bigrams(w).split()) + ")" for w in words)
    where, params = ["fts MATCH ?"], [match]
    if "province" in filters:
        where.append("base.province = ?")
        params.append(filters["province"])
    if filters.get("status") == "valid":
        where.append("base.status = 'valid' AND base.expires >= ?")
        params.append(today_ordinal)
    order = {"relevance": "fts.rank", "level": "base.level_rank DESC, base.issued DESC",
             "issued": "base.issued DESC"}[sort]
    sql = f"FROM fts CROSS JOIN base ON base.id = fts.rowid WHERE {' AND '.join(where)}"
    total = con.execute(f"SELECT count(*) {sql}", params).fetchone()[0]
    page = con.execute(f"SELECT base.id {sql} ORDER BY {order} LIMIT 20", params).fetchall()
    return total, page


# -- queries ----------------------------------------------------------------------------

def make_queries(rows, count: int, seed: int = 11):
    from registry.search import analysis
    rnd = random.Random(seed)
    sample = rnd.sample(rows, min(len(rows), 2000))
    out = []
    for _ in range(count):
        company, cert = rnd.choice(sample)
        name = analysis.compact(company["name"])
        kind = rnd.random()
        if kind < 0.3:
            start = rnd.randrange(0, max(1, len(name) - 2))
            words = [name[start:start + 2]]
        elif kind < 0.55:
            start = rnd.randrange(0, max(1, len(name) - 3))
            words = [name[start:start + 3]]
        elif kind < 0.75:
            words = [company["city"][:-1], rnd.choice(PRODUCTS)]
        elif kind < 0.9:
            start = rnd.randrange(0, max(1, len(name) - 4))
            words = [name[start:start + 2], rnd.choice(PRODUCTS), "维修"]
        else:
            words = [company["city"][:2], name[-6:-4] or name[:2]]
        out.append([w for w in words if w])
    return out


def pinyin_cost(app, workdir: Path, rows, procs) -> str:
    """Build the same sample twice, with and without pinyin terms, in a separate database."""
    from registry import create_app
    from registry.extensions import db
    from registry.search import analysis, indexer
    from registry.search.index import IndexStore

    sample = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'sample.db'}",
                         "SEARCH_INDEX_DIR": str(workdir / "sample-index"), "SEARCH_INDEXER": "external"})
    load_database(sample, rows)
    figures = {}
    with sample.app_context():
        for label in ("with", "without"):
            original = analysis.pinyin
            if label == "without":
                analysis.pinyin = lambda name, places=(): []
            try:
                store = IndexStore(workdir / f"sample-index-{label}")
                report = indexer.rebuild(db.engine, store, procs=procs)
                figures[label] = (report.seconds, dir_size(store.current_path()))
            finally:
                analysis.pinyin = original
    (with_s, with_b), (without_s, without_b) = figures["with"], figures["without"]
    return (f"pinyin cost on {len(rows)} certificates: build {with_s:.1f} s with vs {without_s:.1f} s without "
            f"(+{(with_s - without_s) / without_s * 100:.0f} %), index {with_b / 1e6:.1f} MB vs {without_b / 1e6:.1f} MB "
            f"(+{(with_b - without_b) / without_b * 100:.0f} %)")


def pinyin_brand_figures(holder, rows, today, count: int = 300, seed: int = 5) -> tuple[float, float, int]:
    """The brand of `count` companies typed in full pinyin: the share with no hit at all, and the share
    whose company is among the matches (all of them, read within the company's province)."""
    from pypinyin import lazy_pinyin

    from registry.search.index import run_search
    sample = random.Random(seed).sample(rows, min(count, len(rows)))
    zero = found = 0
    for company, certificate in sample:
        typed = "".join(lazy_pinyin(company["_brand"]))
        if run_search(holder, [typed], {}, "relevance", 1, 1, today).total == 0:
            zero += 1
            continue
        answer = run_search(holder, [typed], {"province": company["province"]}, "relevance", 1, 100_000, today)
        found += any(hit["cert_id"] == certificate["id"] for hit in answer.hits)
    return zero / len(sample) * 100, found / len(sample) * 100, len(sample)


def worker_rss_mb(workdir: Path) -> float:
    """RSS of a fresh process that serves one search page from this index, as a web worker does."""
    import subprocess
    code = (
        "import re, sys\n"
        "from registry import create_app\n"
        f"app = create_app({{'SQLALCHEMY_DATABASE_URI': 'sqlite:///{workdir / 'bench.db'}', "
        f"'SEARCH_INDEX_DIR': '{workdir / 'index'}', 'SEARCH_INDEXER': 'external', 'RATELIMIT_ENABLED': False, "
        "'REGISTRY_TODAY': '2026-06-01'})\n"
        "client = app.test_client()\n"
        "for q in ('海尔', 'haier 空调', '青岛 维修'):\n"
        "    assert client.get('/search', query_string={'q': q, 'status': 'valid'}).status_code == 200\n"
        "print(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the analysis pool, Whoosh's sub-writers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timed(fn, queries):
    latencies = []
    for q in queries:
        started = time.perf_counter()
        fn(q)
        latencies.append((time.perf_counter() - started) * 1000)
    return statistics.median(latencies), percentile(latencies, 0.95)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--certificates", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--procs", type=int, default=None)
    parser.add_argument("--pinyin-cost", action="store_true",
                        help="also build a sample with and without the pinyin field and compare")
    parser.add_argument("--pinyin-sample", type=int, default=20_000)
    parser.add_argument("--reuse", help="directory of an earlier run: skip the builds, time queries only")
    args = parser.parse_args(argv)

    from registry import create_app
    from registry.extensions import db
    from registry.search import analysis, indexer, state
    from registry.search.index import IndexStore, SearcherHolder, run_search

    workdir = Path(args.reuse) if args.reuse else Path(tempfile.mkdtemp(prefix="search-bench-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.db'}",
                      "SEARCH_INDEX_DIR": str(workdir / "index"), "REGISTRY_TODAY": "2026-06-01",
                      "SEARCH_INDEXER": "external"})
    print(f"# search benchmark: {args.certificates} certificates, {args.queries} queries per case, in {workdir}")
    print(f"# machine: {os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f} "
          "(other work on the machine inflates every figure)")
    started = time.perf_counter()
    rows = list(synthetic_rows(args.certificates))
    today = dt.date(2026, 6, 1)
    fts_path = workdir / "fts.db"
    if not args.reuse:
        load_database(app, rows)
        print(f"corpus loaded into SQLite in {time.perf_counter() - started:.1f} s")
        with app.app_context():
            store = state().store
            cpu_before = cpu_seconds()
            report = indexer.rebuild(db.engine, store, procs=args.procs)
            cpu = cpu_seconds() - cpu_before
            size = dir_size(store.current_path())
            print(f"whoosh: full rebuild {report.seconds:.1f} s wall, {cpu:.1f} CPU-s in all "
                  f"processes (≈ {cpu / (os.cpu_count() or 1):.0f} s wall on an otherwise idle machine), "
                  f"index {size / 1e6:.1f} MB; {goal_line('rebuild', report.seconds, len(rows))}", flush=True)
            rebuild_seconds = report.seconds
            names = [c["name"] for c, _ in rows[:5000]]
            t = time.perf_counter()
            for n in names:
                analysis.pinyin(n, ("山东省", "青岛市"))
            print(f"pinyin analysis alone: {(time.perf_counter() - t) / len(names) * 1e6:.0f} µs per name")
        fts_seconds = build_fts(fts_path, rows)
        print(f"fts5 baseline: build {fts_seconds:.1f} s, size {fts_path.stat().st_size / 1e6:.1f} MB", flush=True)
        record("rebuild", rebuild_seconds, size=len(rows), baseline=fts_seconds, baseline_label="FTS5 bigram build")

    queries = make_queries(rows, args.queries)
    provinces = sorted({c["province"] for c, _ in rows})
    cases = {
        "no filter, relevance": lambda: ({}, "relevance"),
        "filter status=valid + province": lambda: ({"status": "valid", "province": random.choice(provinces)},
                                                   "relevance"),
        "filter status=valid, sort by level": lambda: ({"status": "valid"}, "level"),
        "no filter, sort by issue date": lambda: ({}, "issued"),
    }
    holder = SearcherHolder(IndexStore(workdir / "index"))
    con = sqlite3.connect(fts_path)
    print(f"{'case':38} {'whoosh median':>14} {'p95':>8} {'fts5 median':>12} {'p95':>8}  (ms)")
    with app.app_context():
        # Warm-up: the first search opens the searcher and fills the filter caches (reported separately).
        t = time.perf_counter()
        run_search(holder, ["海尔"], {"status": "valid", "province": provinces[0]}, "relevance", 1, 20, today)
        for p in provinces:
            run_search(holder, ["海尔"], {"province": p}, "relevance", 1, 20, today)
        print(f"first search after a (re)open, incl. filter/facet caches: {(time.perf_counter() - t) * 1000:.0f} ms")
        t = time.perf_counter()
        run_search(holder, [], {}, "level", 1, 20, today)
        print(f"first sort by level after a (re)open (sort order cache): {(time.perf_counter() - t) * 1000:.0f} ms")
        # One outbox commit (as the indexer makes for every change), then the first search in this process.
        from registry.certificates.models import Certificate
        from registry.search.outbox import queue_certificate
        certificate = db.session.get(Certificate, 1)
        certificate.scope = certificate.scope + "（已更新）"
        queue_certificate(certificate.id)
        db.session.commit()
        indexer.apply_outbox(db.engine, IndexStore(workdir / "index"))
        t = time.perf_counter()
        run_search(holder, ["海尔"], {"status": "valid", "province": provinces[0]}, "relevance", 1, 20, today)
        print(f"first search after an outbox commit (segment caches kept): {(time.perf_counter() - t) * 1000:.0f} ms")
        random.seed(3)
        for label, make in cases.items():
            plans = [(q, *make()) for q in queries]
            holder.get()[1].terms.clear()  # cold term sets for every case: each first read is paid again
            ours = timed(lambda plan: run_search(holder, plan[0], plan[1], plan[2], 1, 20, today), plans)
            base = timed(lambda plan: fts_query(con, plan[0], plan[1], plan[2], today.toordinal()), plans)
            print(f"{label:38} {ours[0]:14.1f} {ours[1]:8.1f} {base[0]:12.1f} {base[1]:8.1f}", flush=True)
            if label.startswith("filter status=valid + province"):
                filtered = (ours[1], base[1])
        browse = timed(lambda _: run_search(holder, [], {"status": "valid"}, "issued", 1, 20, today), range(50))
        print(f"{'empty query, status=valid, newest first':38} {browse[0]:14.1f} {browse[1]:8.1f}")
        key = "search_p95_filtered_1m" if len(rows) >= 1_000_000 else "search_p95_filtered"
        print(f"filtered p95: {goal_line(key, filtered[0], len(rows))}")
        record(key, filtered[0], size=len(rows), baseline=filtered[1], baseline_label="FTS5 p95")
        zero, found, sampled = pinyin_brand_figures(holder, rows, today)
        print(f"brand in full pinyin, {sampled} companies: zero-hit {zero:.1f} % "
              f"({goal_line('pinyin_zero_hit', zero, len(rows))}), company found {found:.1f} % "
              f"({goal_line('pinyin_found', found, len(rows))})")
        record("pinyin_zero_hit", zero, size=len(rows), note=f"{sampled} brands")
        record("pinyin_found", found, size=len(rows), note=f"{sampled} brands")
    rss = worker_rss_mb(workdir)
    print(f"web worker RSS after serving searches: {rss:.0f} MB; {goal_line('worker_rss', rss, len(rows))}")
    record("worker_rss", rss, size=len(rows))
    if args.pinyin_cost:
        print(pinyin_cost(app, workdir, rows[:args.pinyin_sample], args.procs))
    print(f"# load average at end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
