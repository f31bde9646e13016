"""Benchmark: /v/<number> against a trivial route of the same app, same gunicorn (2 sync workers), same run.

    PYTHONPATH=. .venv/bin/python benchmarks/verify.py [--certificates 10000] [--seconds 6] [--rounds 2] [--clients 4]

Seeds a fresh SQLite database in a temporary directory, starts gunicorn on 127.0.0.1 serving
`benchmarks.verify:bench_app()` (the product app plus one trivial route that exists only here), and drives
it from client processes on 127.0.0.1 for a bounded time per round. Rounds alternate trivial / verify so
drift affects both alike. Prints requests/s, p50, p95 and p99 for each, and the ratio against the goals
of benchmarks/goals.py (issue 14: popular ≥ 85 %, spread ≥ 60 % of the trivial route).
Each /v/ request carries the certificate's correct check code (?c=), as a scanned QR does. Two /v/ workloads:
"popular" (a few products scanned again and again, as on a shop shelf) and "spread" (every request a random
one of all certificates, so the per-process page cache rarely helps).
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import multiprocessing
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-06-01"


def bench_app():
    """The product app (configured from the environment) plus /_bench/trivial; used only by this benchmark."""
    from registry import create_app
    app = create_app()

    @app.route("/_bench/trivial")
    def trivial():
        return "ok"

    return app


def seed(database_url: str, count: int, workdir: Path) -> list[str]:
    """`count` companies and certificates; returns the /v/ paths (with check codes) to request."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["SEARCH_INDEX_DIR"] = str(workdir / "search_index")
    from registry import create_app
    from registry.certificates import qr
    from registry.certificates.identifiers import make_uscc
    from registry.certificates.models import Certificate, Company
    from registry.certificates.rules import default_expiry
    from registry.extensions import db
    from registry.schemes import get_scheme

    app = create_app({"REGISTRY_TODAY": TODAY})
    scheme = get_scheme("gbt27922-2011")
    levels = ["compliant", "3", "4", "5"]
    paths = []
    with app.app_context():
        db.create_all()
        key = qr.check_key(app.config["SECRET_KEY"], app.config.get("QR_SECRET"))
        rng = random.Random(7)
        for start in range(0, count, 1000):
            batch = []
            for n in range(start, min(count, start + 1000)):
                company = Company(name=f"基准测试家电服务有限公司{n:06d}", uscc=make_uscc(f"91110108{n:09d}"), former_names=[],
                                  province="北京市", city="北京市", industry="家电", enterprise_type="production")
                issued = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(0, 800))
                batch.append(Certificate(number=f"99924SV{n:05d}R0", company=company, scheme_id=scheme.id,
                                         level=rng.choice(levels), score=90, scope="家用电器的配送、安装、维修及退换货服务",
                                         service_sites=[], issued_on=issued, expires_on=default_expiry(scheme, issued),
                                         first_issued_on=issued, status="valid"))
            db.session.add_all(batch)
            db.session.commit()
            paths += [urlsplit(qr.verify_url("http://x", c.number, qr.check_code(c.number, key))).geturl()[len("http://x"):]
                      for c in batch]
    return paths


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/_bench/trivial")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def client_loop(port: int, paths: list[str], seconds: float, seed_value: int, queue) -> None:
    """One client: sequential requests for `seconds` (at most 200,000); reports latencies and failures."""
    rng = random.Random(seed_value)
    latencies, failures = [], 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and len(latencies) < 200_000:
        path = paths[rng.randrange(len(paths))]
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers={"Accept-Language": "zh-CN"})
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status != 200:
                failures += 1
        except OSError:
            failures += 1
            continue
        latencies.append(time.perf_counter() - started)
    queue.put((latencies, failures))


def worker_cpu_seconds(master_pid: int) -> float | None:
    """User + system CPU time of gunicorn's workers so far (Linux /proc); None elsewhere."""
    try:
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master_pid:  # ppid
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run_round(port: int, paths: list[str], seconds: float, clients: int, master_pid: int | None = None) -> dict:
    cpu_before = worker_cpu_seconds(master_pid) if master_pid else None
    queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client_loop, args=(port, paths, seconds, i, queue)) for i in range(clients)]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(x for lat, _f in results for x in lat)
    cpu_after = worker_cpu_seconds(master_pid) if master_pid else None
    cpu = (cpu_after - cpu_before) if cpu_before is not None and cpu_after is not None else None
    return {"requests": len(latencies), "failures": sum(f for _l, f in results), "seconds": elapsed,
            "latencies": latencies, "cpu": cpu}


def summarise(rounds: list[dict]) -> dict:
    latencies = sorted(x for r in rounds for x in r["latencies"])
    total = sum(r["requests"] for r in rounds)
    seconds = sum(r["seconds"] for r in rounds)

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")
    cpu = [r["cpu"] for r in rounds if r.get("cpu") is not None]
    return {"rps": total / seconds, "cpu_ms": (sum(cpu) / total * 1000) if cpu and total else float("nan"),
            "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99),
            "median": statistics.median(latencies) * 1000 if latencies else float("nan"),
            "requests": total, "failures": sum(r["failures"] for r in rounds)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--certificates", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=6.0, help="per round and route")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hot", type=int, default=100, help="certificates in the 'popular products' workload")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    database_url = f"sqlite:///{workdir / 'bench.db'}"
    print(f"seeding {args.certificates} certificates in {workdir} …", file=sys.stderr)
    paths = seed(database_url, args.certificates, workdir)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "REGISTRY_TODAY": TODAY,
           "SEARCH_INDEX_DIR": str(workdir / "search_index"), "PYTHONPATH": str(ROOT)}
    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--worker-class", "sync",
                "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--chdir", str(ROOT), "benchmarks.verify:bench_app()"]
    load_before = os.getloadavg()[0]
    server = subprocess.Popen(gunicorn, env=env, start_new_session=True)
    try:
        wait_until_up(port)
        # Warm up: templates, catalogs and connections in both workers; the popular pages as a shop shelf would.
        for warm, seconds in ((["/_bench/trivial"], 1.0), (paths[:args.hot], 3.0)):
            run_round(port, warm, seconds, args.clients)
        workloads = {"trivial": ["/_bench/trivial"], f"/v/ {args.hot} popular": paths[:args.hot],
                     f"/v/ {len(paths)} spread": paths}
        rounds = {name: [] for name in workloads}
        for _ in range(args.rounds):
            for name, workload in workloads.items():
                rounds[name].append(run_round(port, workload, args.seconds, args.clients, server.pid))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
        shutil.rmtree(workdir, ignore_errors=True)

    summaries = {name: summarise(r) for name, r in rounds.items()}
    trivial = summaries["trivial"]
    print(f"gunicorn {args.workers} sync workers, {args.clients} client processes on 127.0.0.1, "
          f"{args.rounds} × {args.seconds:g} s per workload, {args.certificates} certificates (SQLite), "
          f"load average before: {load_before:.1f}, after: {os.getloadavg()[0]:.1f}")
    print(f"{'workload':<22}{'req/s':>9}{'of trivial':>12}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'requests':>10}{'failed':>8}"
          f"{'worker CPU ms/req':>19}{'CPU-bound ratio':>17}")
    for name, s in summaries.items():
        ratio = s["rps"] / trivial["rps"] if trivial["rps"] else 0
        cpu_ratio = trivial["cpu_ms"] / s["cpu_ms"] if s["cpu_ms"] else float("nan")
        print(f"{name:<22}{s['rps']:>9.0f}{ratio:>11.0%} {s['p50']:>9.2f}{s['p95']:>9.2f}{s['p99']:>9.2f}{s['requests']:>10}"
              f"{s['failures']:>8}{s['cpu_ms']:>19.2f}{cpu_ratio:>16.0%}")
    print("'CPU-bound ratio' = trivial's worker CPU per request ÷ this workload's: the throughput ratio the server")
    print("would reach if nothing else competed for the CPU.")
    from benchmarks.goals import goal_line, record
    for name, key in ((f"/v/ {args.hot} popular", "verify_popular"), (f"/v/ {len(paths)} spread", "verify_spread_sqlite")):
        ratio = summaries[name]["rps"] / trivial["rps"] * 100 if trivial["rps"] else 0
        print(f"{name}: {goal_line(key, ratio, len(paths))}")
        record(key, ratio, size=len(paths), baseline=100,
               baseline_label=f"trivial route ({trivial['rps']:.0f} req/s)")
    return 0 if not any(s["failures"] for s in summaries.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
