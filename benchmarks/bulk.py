"""Benchmark: 1,000 identifiers verified through POST /api/v1/verify, against baselines in the same run.

Two lists: a mix (600 numbers, 300 credit codes, 80 names, 20 unknown) and 1,000 exact company names.
Baselines: 1,000 single GET /api/v1/certificates/<number> calls, and 1,000 raw `lookup()` calls.
Everything runs in-process over WSGI (Flask test client), so the figures are the app's own cost.
Also the bulk XLSX reader: CPU of the worst file within the caps, and of a hostile 92 KB file of 2.2 million
shared strings until it is refused. Goals (benchmarks/goals.py): ≤ 0.15 s per 1,000 identifiers of any mix
at 100,000 certificates; ≤ 0.5 s CPU for any upload.

Usage:  PYTHONPATH=. python benchmarks/bulk.py [--certificates 5000] [--rounds 5]
        DATABASE_URL=postgresql+psycopg://... PYTHONPATH=. python benchmarks/bulk.py --scratch
        measures on PostgreSQL; --scratch drops and recreates every table there, so give it a scratch database.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from decimal import Decimal

from benchmarks.goals import goal_line, record


def build_app(tmpdir: str, scratch: bool = False):
    from registry import create_app
    from registry.certificates import lifecycle  # noqa: F401  (its models must exist before create_all)
    from registry.extensions import db
    config = {
        "TESTING": True, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{tmpdir}/bench.db",
        "SEARCH_INDEX_DIR": f"{tmpdir}/index", "SIGNING_KEY_PATH": f"{tmpdir}/key.pem",
        "REGISTRY_TODAY": "2026-06-01",
    }
    if os.environ.get("DATABASE_URL") and not scratch:
        raise SystemExit("DATABASE_URL is set: pass --scratch to confirm its tables may be dropped and recreated")
    app = create_app(config)
    with app.app_context():
        if scratch:  # every table there, including ones of models this script does not import
            from sqlalchemy import MetaData
            existing = MetaData()
            existing.reflect(bind=db.engine)
            existing.drop_all(bind=db.engine)
        db.create_all()
    return app


def seed(app, count: int) -> list[tuple[str, str, str]]:
    """`count` companies with one certificate each and an 'issued' ledger entry; returns (number, uscc, name)."""
    from registry.certificates import lifecycle
    from registry.certificates.identifiers import make_uscc
    from registry.certificates.models import Certificate, Company
    from registry.extensions import db
    rows = []
    with app.app_context():
        for n in range(count):
            company = Company(name=f"基准测试家电服务有限公司{n:05d}", uscc=make_uscc(f"91310115{n:09d}"), former_names=[],
                              province="上海市", city="上海市", address="", industry="家电", enterprise_type="production")
            issued = dt.date(2024, 1, 1) + dt.timedelta(days=n % 700)
            certificate = Certificate(number=f"99924SV{n:05d}R0", company=company, scheme_id="gbt27922-2011",
                                      level=("compliant", "3", "4", "5")[n % 4], score=Decimal("90.00"), scope="",
                                      service_sites=[], issued_on=issued, expires_on=issued + dt.timedelta(days=3 * 365),
                                      first_issued_on=issued, status="valid", last_surveillance_on=dt.date(2026, 1, 1))
            db.session.add_all([company, certificate])
            db.session.flush()
            lifecycle.record_event(certificate, "issued", actor_role="system", effective_on=issued)
            rows.append((certificate.number, company.uscc, company.name))
            if n % 500 == 499:
                db.session.commit()
        db.session.commit()
    return rows


def summary(label: str, seconds: list[float], items: int) -> str:
    ordered = sorted(seconds)
    median = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"{label:<46} median {median * 1000:8.1f} ms  p95 {p95 * 1000:8.1f} ms  "
            f"throughput {items / median:8.0f} identifiers/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-xlsx", action="store_true", help="skip the XLSX reader figures")
    parser.add_argument("--scratch", action="store_true", help="drop and recreate the tables of DATABASE_URL")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmpdir:
        app = build_app(tmpdir, args.scratch)
        started = time.perf_counter()
        rows = seed(app, args.certificates)
        print(f"seeded {len(rows)} certificates with ledger entries in {time.perf_counter() - started:.1f} s "
              f"({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]})")
        # 1,000 identifiers: 600 numbers, 300 credit codes, 80 names, 20 unknown.
        picked = rows[:: max(1, len(rows) // 1000)][:1000]
        identifiers = ([r[0] for r in picked[:600]] + [r[1] for r in picked[600:900]]
                       + [r[2] for r in picked[900:980]] + [f"不存在的公司{n}" for n in range(20)])
        assert len(identifiers) == 1000
        client = app.test_client()

        bulk_times = []
        for _round in range(args.rounds):
            t0 = time.perf_counter()
            response = client.post("/api/v1/verify", json={"identifiers": identifiers, "on": "2025-06-01"})
            bulk_times.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            counts = response.get_json()["counts"]
            assert counts == {"exact": 980, "ambiguous": 0, "not_found": 20}, counts

        receipt_times = []
        for _round in range(max(1, args.rounds // 2)):
            t0 = time.perf_counter()
            response = client.post("/api/v1/verify", json={"identifiers": identifiers, "receipt": True})
            receipt_times.append(time.perf_counter() - t0)
            assert response.status_code == 200

        single_times = []
        for _round in range(max(1, args.rounds // 2)):
            t0 = time.perf_counter()
            for number in (r[0] for r in picked):
                assert client.get(f"/api/v1/certificates/{number}").status_code == 200
            single_times.append(time.perf_counter() - t0)

        lookup_times = []
        from registry.certificates.services import lookup
        with app.app_context():
            for _round in range(max(1, args.rounds // 2)):
                t0 = time.perf_counter()
                for identifier in identifiers:
                    lookup(identifier)
                lookup_times.append(time.perf_counter() - t0)

        names = [r[2] for r in picked]
        names_times = []
        for _round in range(args.rounds):
            t0 = time.perf_counter()
            response = client.post("/api/v1/verify", json={"identifiers": names})
            names_times.append(time.perf_counter() - t0)
            assert response.get_json()["counts"]["exact"] == len(names)

        print(summary("POST /api/v1/verify, 1,000 mixed identifiers", bulk_times, 1000))
        print(summary("  … with a signed receipt", receipt_times, 1000))
        print(summary("POST /api/v1/verify, 1,000 exact company names", names_times, len(names)))
        print(summary("baseline: 1,000 × GET /api/v1/certificates/<n>", single_times, 1000))
        print(summary("baseline: 1,000 × lookup() (no HTTP, no status)", lookup_times, 1000))
        single = statistics.median(single_times)
        dialect = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0].split("+")[0]
        for key, times, label in (("bulk_mixed", bulk_times, "mixed"), ("bulk_names", names_times, "names")):
            median = statistics.median(times)
            print(f"1,000 {label}: {goal_line(key, median, len(rows))}; {single / median:.1f}× faster than "
                  "1,000 single calls")
            record(key, median, size=len(rows), baseline=single, baseline_label="1,000 single GETs", note=dialect)
        if not args.skip_xlsx:
            xlsx_figures()


def xlsx_figures() -> None:
    """CPU of the worst XLSX within the caps, and of the hostile one until refused."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from registry.procurement import bulk
    from tests.procurement.test_bulk_xlsx_caps import cpu_of, many_shared_strings, sheet_with_cells
    rows = bulk.MAX_XLSX_ROWS - 10
    worst = sheet_with_cells(rows, (bulk.MAX_XLSX_CELLS - 100) // rows)
    hostile = many_shared_strings(2_200_000)
    worst_cpu = min(cpu_of(lambda: bulk.parse_xlsx(worst))[1] for _ in range(3))
    result, hostile_cpu = cpu_of(lambda: bulk.parse_xlsx(hostile))
    assert isinstance(result, ValueError), result
    print(f"XLSX at the caps ({len(worst) // 1024} KB): {goal_line('xlsx_worst_accepted', worst_cpu)}")
    print(f"XLSX of 2.2 M shared strings ({len(hostile) // 1024} KB), refused: "
          f"{goal_line('xlsx_hostile_refused', hostile_cpu)}")
    record("xlsx_worst_accepted", worst_cpu, note=f"{bulk.MAX_XLSX_ROWS} rows, {bulk.MAX_XLSX_CELLS} cells")
    record("xlsx_hostile_refused", hostile_cpu, baseline=12.4, baseline_label="before the caps (issue 14)")


if __name__ == "__main__":
    main()
