"""Benchmark: the certificate page's complaint block with 100,000 complaints on one certificate.

Compares, in the same run and on the same data, the monthly counters the page uses (at most 12 rows
summed) with a naive baseline that aggregates the complaint table itself (COUNT/SUM over every
complaint of the certificate, through its index). Also times the whole certificate page.

Usage:  PYTHONPATH=. python benchmarks/complaints.py [--complaints 100000] [--runs 200]
        DATABASE_URL=postgresql+psycopg://... to run on PostgreSQL (the tables are dropped and recreated!).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time

from sqlalchemy import and_, case, func, insert, select

from registry import create_app
from registry.complaints import rules, services
from registry.complaints.models import Complaint, ComplaintMonthlyStat
from registry.extensions import db


def build(n: int):
    from tests.factories import make_certificate
    cert = make_certificate(level="4")
    db.session.commit()
    rng = random.Random(27922)
    today = dt.date(2026, 6, 1)
    rows, stats = [], {}
    for i in range(n):
        filed = today - dt.timedelta(days=rng.randrange(0, 540))
        accepted = filed + dt.timedelta(days=3) if rng.random() < 0.8 else None
        responded = accepted + dt.timedelta(days=rng.randrange(1, 20)) if accepted and rng.random() < 0.9 else None
        due = accepted + dt.timedelta(days=14) if accepted else None
        unanswered = bool(accepted and (responded is None or responded > due))
        closed = (responded + dt.timedelta(days=5)) if responded and rng.random() < 0.8 else None
        closed = closed if closed and closed <= today else None
        outcome = rng.choice(["resolved_by_company", "upheld", "partially_upheld", "not_upheld"]) if closed else None
        rows.append(dict(tracking_number=f"TSB{i:09d}", token_hash="0" * 64, certificate_id=cert.id,
                         company_id=cert.company_id, category="repair", description="基准测试投诉内容",
                         desired_resolution="refund", consumer_name="测试", consumer_mobile="+8613800000000",
                         consented_at=dt.datetime(2026, 1, 1), public_summary="基准测试", filed_on=filed,
                         clock_started_on=filed, accepted_on=accepted, response_due_on=due, first_response_on=responded,
                         unanswered=unanswered, closed_on=closed, outcome=outcome,
                         state="closed" if closed else ("responded" if responded else ("accepted" if accepted else "submitted")),
                         version=1))

        def bump(day, **counts):
            key = rules.month_start(day)
            row = stats.setdefault(key, dict(received=0, accepted=0, answered_on_time=0, answered_late=0, unanswered=0,
                                             closed=0, resolved=0, upheld=0))
            for name, k in counts.items():
                row[name] += k
        # The same counts the services add event by event.
        bump(filed, received=1)
        if accepted:
            bump(accepted, accepted=1)
        if responded and not unanswered:
            bump(responded, answered_on_time=1)
        if unanswered:
            bump(due, unanswered=1)
        if closed:
            bump(closed, closed=1, resolved=int(outcome == "resolved_by_company"),
                 upheld=int(outcome in ("upheld", "partially_upheld")))
    for start in range(0, n, 5000):
        db.session.execute(insert(Complaint), rows[start:start + 5000])
    db.session.execute(insert(ComplaintMonthlyStat),
                       [dict(certificate_id=cert.id, month=m, **c) for m, c in stats.items()])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":   # what autovacuum would do after a bulk load
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    return cert


def naive_stats(certificate_id: int, today: dt.date):
    """Baseline: aggregate the complaint table on every page view."""
    since = rules.months_back(today, 11)
    c = Complaint
    row = db.session.execute(select(
        func.sum(case((c.filed_on >= since, 1), else_=0)),
        func.sum(case((c.accepted_on >= since, 1), else_=0)),
        func.sum(case((and_(c.first_response_on >= since, c.unanswered.is_(False)), 1), else_=0)),
        func.sum(case((and_(c.unanswered.is_(True), c.response_due_on >= since), 1), else_=0)),
        func.sum(case((c.closed_on >= since, 1), else_=0)),
        func.sum(case((and_(c.closed_on >= since, c.outcome == "resolved_by_company"), 1), else_=0)),
        func.sum(case((and_(c.closed_on >= since, c.outcome.in_(["upheld", "partially_upheld"])), 1), else_=0)),
    ).where(c.certificate_id == certificate_id)).one()
    received, accepted, on_time, unanswered, closed, resolved, upheld = (int(v or 0) for v in row)
    return services.PublicStats(received, accepted, rules.percent(on_time, on_time + unanswered),
                                rules.percent(resolved, closed), upheld, unanswered, since)


def timed(fn, runs: int) -> dict:
    for _i in range(5):   # warm caches; cold first reads are not what a busy page sees
        fn()
    times = []
    for _i in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"median_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))],
            "per_s": 1000 / statistics.mean(times)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="complaints-bench-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir}/bench.db"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SEARCH_INDEX_DIR": f"{workdir}/index",
                      "REGISTRY_TODAY": "2026-06-01", "RATELIMIT_ENABLED": False, "UPLOAD_DIR": f"{workdir}/up"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        t0 = time.perf_counter()
        cert = build(args.complaints)
        print(f"database: {db.engine.dialect.name}; {args.complaints:,} complaints on one certificate "
              f"(built in {time.perf_counter() - t0:.1f} s); {args.runs} runs each")
        today = dt.date(2026, 6, 1)
        counters, naive = services.certificate_stats(cert.id, today), naive_stats(cert.id, today)
        assert counters == naive, (counters, naive)
        print(f"same figures both ways: {counters}")
        results = {
            "stat block, monthly counters (what the page uses)": timed(lambda: services.certificate_stats(cert.id, today), args.runs),
            "stat block, naive aggregate over complaints (baseline)": timed(lambda: naive_stats(cert.id, today), args.runs),
            "closed-complaint summaries (indexed, LIMIT 5)": timed(lambda: services.public_summaries(cert.id, today, 5), args.runs),
        }
        number = cert.number
    client = app.test_client()
    results["whole certificate page GET /certificates/<number>"] = timed(
        lambda: client.get(f"/certificates/{number}"), max(20, args.runs // 4))
    width = max(len(k) for k in results)
    print(f"{'':{width}}  {'median':>9}  {'p95':>9}  {'per second':>10}")
    for name, r in results.items():
        print(f"{name:{width}}  {r['median_ms']:7.3f}ms  {r['p95_ms']:7.3f}ms  {r['per_s']:10.0f}")
    base = results["stat block, naive aggregate over complaints (baseline)"]["median_ms"]
    fast = results["stat block, monthly counters (what the page uses)"]["median_ms"]
    print(f"counters are {base / fast:.0f}× faster than the baseline (median)")
    from benchmarks.goals import record
    record("complaint_stats", fast, baseline=base, baseline_label="naive aggregate",
           note=f"{args.complaints:,} complaints")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
