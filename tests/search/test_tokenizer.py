"""rjieba tokenises our texts exactly as jieba does (precise and search mode), so the switch changed no
index term: compared live when jieba is installed (the test extra), and always against stored tokens."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from registry.demo.data import demo_records
from registry.search import analysis

STORED = Path(__file__).parent / "data" / "jieba_tokens.json"


def demo_texts() -> list[str]:
    """Every Chinese text of the demo register (names, former names, scopes, sites, places), folded."""
    texts = set()
    for record in demo_records(dt.date(2026, 6, 1)):
        for value in record.values():
            if value and any("\u4e00" <= ch <= "\u9fff" for ch in value):
                texts.update(v for v in value.split("|") if v)
    return sorted(analysis.fold(t) for t in texts)


def benchmark_texts(count: int = 2000) -> list[str]:
    from benchmarks.search import synthetic_rows
    texts = set()
    for company, certificate in synthetic_rows(count):
        texts.update([company["name"], *company["former_names"], company["city"], company["industry"],
                      certificate["scope"], *certificate["service_sites"]])
    return sorted(analysis.fold(t) for t in texts)


def tokens(cutter, texts):
    return {t: [list(cutter.cut(t)), list(cutter.cut_for_search(t))] for t in texts}


def test_rjieba_gives_jiebas_tokens_on_the_demo_and_benchmark_texts():
    jieba = pytest.importorskip("jieba")
    import rjieba
    texts = demo_texts() + benchmark_texts()
    assert len(texts) > 3000
    expected, got = tokens(jieba, texts), tokens(rjieba, texts)
    assert [t for t in texts if expected[t] != got[t]] == []


def test_rjieba_gives_the_stored_jieba_tokens():
    import rjieba
    stored = json.loads(STORED.read_text(encoding="utf-8"))
    assert len(stored) > 500
    got = tokens(rjieba, stored)
    assert [t for t in stored if stored[t] != got[t]] == []


def test_stored_tokens_cover_the_demo_register():
    # If demo texts change, regenerate: python -m tests.search.test_tokenizer (with jieba installed).
    assert set(demo_texts()) <= set(json.loads(STORED.read_text(encoding="utf-8")))


if __name__ == "__main__":
    import jieba as _jieba
    table = tokens(_jieba, demo_texts())
    lines = (f"{json.dumps(t, ensure_ascii=False)}: {json.dumps(table[t], ensure_ascii=False)}" for t in sorted(table))
    STORED.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
