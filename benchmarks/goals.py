"""The performance goals (issue 14) as data, and the one place benchmarks record what they measured.

Each benchmark prints its own lines and, when BENCH_RESULTS names a file, appends one JSON line per
figure there (`record`). `python benchmarks/goals.py FILE` (what `make bench` runs last) prints one table
of every goal: the figure measured, at which size, its baseline from the same run, and whether the goal is
met; a goal stated for a larger register than the one measured is reported as met or missed *at that
size only*, and a figure no benchmark measured says so.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    key: str
    figure: str
    op: str            # "<=" or ">="
    target: float | None  # None: a figure shown beside its baseline, without a goal
    unit: str
    at: int | None = None  # the register size the goal is stated for (certificates); None: any size

    def text(self) -> str:
        if self.target is None:
            return "no goal"
        size = f" at {self.at:,}" if self.at else ""
        return f"{'≤' if self.op == '<=' else '≥'} {format_value(self.target, self.unit)}{size}"

    def met(self, value: float) -> bool:
        if self.target is None:
            return True
        return value <= self.target if self.op == "<=" else value >= self.target


GOALS = [
    Goal("verify_popular", "/v/ popular (few products scanned often), of trivial route", ">=", 85, "%"),
    Goal("verify_spread_sqlite", "/v/ spread over all certificates, SQLite, of trivial route", ">=", 60, "%", 10_000),
    Goal("verify_spread_postgresql", "/v/ spread over all certificates, PostgreSQL, of trivial", ">=", 60, "%", 10_000),
    Goal("verify_cold", "/v/ cold process, every request a new certificate, of trivial", ">=", 50, "%"),
    Goal("worker_rss", "RSS of one web worker with the index, after a search", "<=", 200, "MB", 100_000),
    Goal("rebuild", "search index rebuild (wall)", "<=", 20, "s", 100_000),
    Goal("search_p95_filtered", "search p95, filtered (status=valid + province)", "<=", 10, "ms", 100_000),
    Goal("search_p95_filtered_1m", "search p95, filtered, 1,000,000 certificates", "<=", 25, "ms", 1_000_000),
    Goal("pinyin_zero_hit", "full pinyin of a company's brand: zero-hit rate", "<=", 0, "%", 100_000),
    Goal("pinyin_found", "full pinyin of a company's brand: company found in matches", ">=", 100, "%", 100_000),
    Goal("bulk_names", "bulk check of 1,000 exact company names (median)", "<=", 0.15, "s", 100_000),
    Goal("bulk_mixed", "bulk check of 1,000 mixed identifiers (median)", "<=", 0.15, "s", 100_000),
    Goal("xlsx_worst_accepted", "worst accepted bulk XLSX upload, CPU", "<=", 0.5, "s"),
    Goal("xlsx_hostile_refused", "XLSX of 2.2 M shared strings (92 KB): CPU until refused", "<=", 0.5, "s"),
    # No goal in the issue (it beats its baseline already); listed so the table shows every figure.
    Goal("complaint_stats", "complaint stat block, 100,000 complaints on one certificate (median)", "<=", None, "ms"),
]
BY_KEY = {g.key: g for g in GOALS}


def format_value(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.0f} %"
    if unit == "s":
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    return f"{value:.0f} {unit}"


def goal_line(key: str, value: float, size: int | None = None) -> str:
    """One printed line: the figure, its goal, and the verdict (at the size measured)."""
    goal = BY_KEY[key]
    verdict = "met" if goal.met(value) else "MISSED"
    if goal.at and size is not None and size < goal.at:
        verdict += f" (measured at {size:,}; the goal is for {goal.at:,})"
    return f"goal {goal.text()}: {format_value(value, goal.unit)} — {verdict}"


def record(key: str, value: float, *, size: int | None = None, baseline: float | None = None,
           baseline_label: str = "", note: str = "") -> None:
    """Append one measured figure to $BENCH_RESULTS (a JSON line), if set."""
    path = os.environ.get("BENCH_RESULTS")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"key": key, "value": value, "size": size, "baseline": baseline,
                              "baseline_label": baseline_label, "note": note}, ensure_ascii=False) + "\n")


def summary_table(lines: list[dict]) -> str:
    measured: dict[str, list[dict]] = {}
    for line in lines:
        measured.setdefault(line["key"], []).append(line)
    rows = [("figure", "goal", "measured", "size", "baseline (same run)", "verdict")]
    for goal in GOALS:
        for m in measured.get(goal.key) or [None]:
            if m is None:
                rows.append((goal.figure, goal.text(), "—", "—", "—", "not measured"))
                continue
            verdict = "—" if goal.target is None else "met" if goal.met(m["value"]) else "MISSED"
            if goal.target is not None and goal.at and m["size"] and m["size"] < goal.at:
                verdict += f" at {m['size']:,} ({goal.at:,} not measured)"
            baseline = "—" if m["baseline"] is None else \
                f"{format_value(m['baseline'], goal.unit)} {m['baseline_label']}".strip()
            figure = goal.figure + (f" ({m['note']})" if m["note"] else "")
            rows.append((figure, goal.text(), format_value(m["value"], goal.unit),
                         f"{m['size']:,}" if m["size"] else "—", baseline, verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    out.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(out)


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BENCH_RESULTS", "")
    lines = []
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as source:
            lines = [json.loads(line) for line in source if line.strip()]
    print(summary_table(lines))
