"""Benchmark: the transparency log against the hash chain alone, in the same run, on one database.

    PYTHONPATH=. .venv/bin/python benchmarks/tlog.py [--entries 20000] [--appends 200] [--proofs 300]
                                                      [--database-url URL]

Seeds a ledger of `--entries` chained entries (bulk insert, as an old ledger before the upgrade), builds the
tree (`tlog.rebuild`, timed), then measures, each as p50 / p95 / max in milliseconds:
  - append: `append_entry` + commit, one entry per transaction, first with the tree hook switched off
    (the hash chain alone, as before) and then with it (chain + tree);
  - inclusion proof at the full size, for random indices; and, for comparison, what the chain alone needs
    to show one entry belongs to the published head: recompute the chain from the export (two runs);
  - consistency proof between random pairs of sizes; signing a checkpoint.
The issue's target: append and inclusion proof under 5 ms and consistency under 10 ms at 1,000,000
entries (`--entries 1000000`; seeding then takes minutes, so the default is small: keep runs short on a
shared machine). A fresh SQLite database in a temporary directory unless --database-url is given.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered) * 1000:7.3f}  p95 {p95 * 1000:7.3f}  max {ordered[-1] * 1000:7.3f} ms"


def seed(count: int) -> None:
    from sqlalchemy import insert

    from registry.extensions import db
    from registry.ledger.chain import GENESIS_HASH, entry_hash
    from registry.ledger.models import LedgerEntry
    previous, rows = GENESIS_HASH, []
    recorded = dt.datetime(2026, 1, 1)
    for seq in range(1, count + 1):
        fields = {"seq": seq, "certificate_number": f"99925SV{seq % 90000:05d}R0", "kind": "note",
                  "effective_on": dt.date(2026, 1, 1), "status_after": "valid", "level_after": "4",
                  "scheme_id": "gbt27922-2011", "public_text": "", "reason": "", "actor_role": "system",
                  "data": {"n": seq}, "recorded_at": recorded, "prev_hash": previous}
        previous = entry_hash(fields)
        rows.append({**fields, "hash": previous})
        if len(rows) == 5000:
            db.session.execute(insert(LedgerEntry), rows)
            rows = []
    if rows:
        db.session.execute(insert(LedgerEntry), rows)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--appends", type=int, default=200)
    parser.add_argument("--proofs", type=int, default=300)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="tlog-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"

    from registry import create_app
    from registry.extensions import db
    from registry.ledger import services, tlog
    from registry.ledger.chain import verify_entries

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "bench",
                      "INSTANCE_PATH": str(workdir / "instance"), "SEARCH_INDEX_DIR": str(workdir / "idx"),
                      "SIGNING_KEY_PATH": str(workdir / "key.pem"), "PUBLIC_BASE_URL": "http://127.0.0.1"})
    rng = random.Random(6962)
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        seed(args.entries)
        print(f"seeded {args.entries} chained entries in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        tlog.rebuild()
        db.session.commit()
        took = time.perf_counter() - started
        print(f"tree rebuild (backfill): {took:.1f} s, {args.entries / took:,.0f} leaves/s")

        def appends(count: int) -> list[float]:
            samples = []
            for _ in range(count):
                started = time.perf_counter()
                services.append_entry(kind="note", actor_role="system", data={"bench": True})
                db.session.commit()
                samples.append(time.perf_counter() - started)
            return samples

        hook = tlog.append_leaf
        tlog.append_leaf = lambda seq, fields: None  # the chain alone, as before the tree existed
        chain_only = appends(args.appends)
        tlog.append_leaf = hook
        tlog.catch_up(services.head().seq)
        db.session.commit()
        with_tree = appends(args.appends)
        size = tlog.tree_size()
        print(f"\nat {size} entries")
        print(f"append, hash chain alone     {_ms(chain_only)}")
        print(f"append, chain + Merkle tree  {_ms(with_tree)}")

        samples = []
        for _ in range(args.proofs):
            index = rng.randrange(size)
            started = time.perf_counter()
            tlog.inclusion_proof(index, size)
            samples.append(time.perf_counter() - started)
            db.session.rollback()  # a fresh transaction per proof, as per request
        print(f"inclusion proof (tree)       {_ms(samples)}")

        samples = []
        for _ in range(2):
            started = time.perf_counter()
            verify_entries(services.entry_fields(e) for e in services.iter_entries(after_seq=0))
            samples.append(time.perf_counter() - started)
            db.session.rollback()
        print(f"chain alone: recompute the chain (proves any entry) {_ms(samples)}")

        samples = []
        for _ in range(args.proofs):
            old = rng.randrange(1, size + 1)
            new = rng.randrange(old, size + 1)
            started = time.perf_counter()
            tlog.consistency_proof(old, new)
            samples.append(time.perf_counter() - started)
            db.session.rollback()
        print(f"consistency proof (tree)     {_ms(samples)}")

        services.append_entry(kind="note", actor_role="system")
        db.session.commit()
        started = time.perf_counter()
        tlog.current_checkpoint()
        db.session.commit()
        print(f"sign a checkpoint            {(time.perf_counter() - started) * 1000:7.3f} ms")
        db.engine.dispose()


if __name__ == "__main__":
    main()
