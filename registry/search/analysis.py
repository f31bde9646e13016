"""Text analysis for search, as pure functions: the same code makes index tokens and query terms.

Every text goes through `fold` first (OpenCC traditional → simplified, NFKC full-width → half-width,
lower case), so 海爾, ＨＡＩＥＲ and haier meet the simplified, lower-case forms in the index.

Tokens are produced here and written to the index space-separated (Whoosh KEYWORD fields); Whoosh never
analyses our text itself. That keeps analysis testable without an index, and the index schema free of
custom classes.

- words: jieba (the rjieba binding), search mode (青岛海澜家电有限公司 → 青岛 海澜 家电 有限 公司 有限公司).
- grams: every 2-character window of a name's letters and digits. A query of two or more characters
  matches when all its bigrams are present (LIKE-like: 海澜 and 澜家电 both find 青岛海澜家电有限公司, which
  jieba words alone miss for cross-word substrings).
- pinyin: full and initials, (a) of each jieba word of a name without its legal-form suffix
  (海尔智家股份有限公司 → haier he zhijia zj), and (b) of the name's distinctive part as a whole, without the
  place in front or in brackets and the legal-form suffix, and of every prefix of it of two syllables or
  more (上海夏菲劳家电有限公司 → xiafei xiafeilao xiafeilaojia xiafeilaojiadian and xf xfl xflj xfljd), so a
  brand typed in pinyin is found whichever way jieba cut it. Queries match a pinyin term exactly.
"""
from __future__ import annotations

import functools
import re
import unicodedata

from registry.certificates.identifiers import fold as fold_identifier

# Legal-form endings nobody types when looking for a company; left out of pinyin terms only.
LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司", "股份", "厂")
# Province-level names, and the endings cut from any place name to get the short form people write
# (广东省 → 广东, 广西壮族自治区 → 广西, 青岛市 → 青岛). The company's own province and city are added per name.
PROVINCES = ("北京市", "天津市", "上海市", "重庆市", "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "江苏省",
             "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "海南省",
             "四川省", "贵州省", "云南省", "陕西省", "甘肃省", "青海省", "台湾省", "内蒙古自治区", "广西壮族自治区",
             "西藏自治区", "宁夏回族自治区", "新疆维吾尔自治区", "香港特别行政区", "澳门特别行政区", "中国")
PLACE_ENDINGS = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "自治州", "地区", "省", "市",
                 "县", "区")
_ALNUM = re.compile(r"[^\W_]+", re.UNICODE)
_LATIN_WORD = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC  # the official binding; ~1.5 µs per name
    return OpenCC("t2s")


def fold(text: str) -> str:
    """Traditional → simplified, full-width → half-width, lower case. 海爾 ＴＣＬ → 海尔 tcl."""
    text = unicodedata.normalize("NFKC", text or "")
    return _t2s().convert(text).lower()


def fold_key(text: str) -> str:
    """Identifier form of a USCC or certificate number: no spaces or dashes, upper case."""
    return fold_identifier(text)


def compact(text: str) -> str:
    """Only letters and digits (any script), folded: the text n-grams are cut from."""
    return "".join(_ALNUM.findall(fold(text)))


@functools.lru_cache(maxsize=1)
def _jieba():
    # rjieba: jieba's algorithm and dictionary in Rust, same `cut` / `cut_for_search` answers (tested
    # against jieba on our corpus), ~20x faster, 0.1 s to load instead of ~1 s.
    import rjieba
    return rjieba


def words(text: str) -> list[str]:
    """Index tokens for running text: jieba search-mode words of the folded text, punctuation dropped."""
    return list(_words(text or ""))


@functools.lru_cache(maxsize=65536)
def _words(text: str) -> tuple[str, ...]:
    # Cached: scopes, sites, cities, provinces and industries repeat across thousands of certificates.
    folded = fold(text)
    return tuple(w for w in (t.strip() for t in _jieba().cut_for_search(folded)) if w and _ALNUM.fullmatch(w))


def query_words(text: str) -> list[str]:
    """Query terms: jieba precise-mode words (each is also produced by search mode at index time)."""
    folded = fold(text)
    return [w for w in (t.strip() for t in _jieba().cut(folded)) if w and _ALNUM.fullmatch(w)]


def grams(text: str) -> list[str]:
    """Every 2-character window of the compacted text (a one-character name is its own gram).

    No single characters: a one-character query matches grams by prefix instead, which keeps the most
    common postings (every 有, 限, 公, 司) out of the index."""
    chars = compact(text)
    if len(chars) == 1:
        return [chars]
    return [chars[i:i + 2] for i in range(len(chars) - 1)]


def query_grams(text: str) -> list[str]:
    """What a query word must all match in the gram field: its bigrams (or itself if one character)."""
    chars = compact(text)
    if len(chars) <= 1:
        return [chars] if chars else []
    return list(dict.fromkeys(chars[i:i + 2] for i in range(len(chars) - 1)))


def strip_legal_suffix(name: str) -> str:
    """The name without its legal-form endings (集团有限公司 counts as two): 海澜家电集团有限公司 → 海澜家电."""
    stripped = True
    while stripped:
        stripped = False
        for suffix in LEGAL_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                name, stripped = name[: -len(suffix)], True
                break
    return name


@functools.lru_cache(maxsize=4096)
def place_forms(places: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every way the given places and the provinces are written at the start or end of a name, longest first."""
    forms = set()
    for place in (*PROVINCES, *places):
        place = compact(place or "")
        if not place:
            continue
        forms.add(place)
        for ending in PLACE_ENDINGS:
            if place.endswith(ending) and len(place) - len(ending) >= 2:
                forms.add(place[: -len(ending)])
                break
    return tuple(sorted(forms, key=len, reverse=True))


def distinctive_part(name: str, places=()) -> str:
    """The part of a company name that tells it apart: no place in front or behind (in brackets or not), no
    legal-form suffix. 广东省深圳市夏菲劳家电（深圳）集团有限公司 → 夏菲劳家电. Never cut to less than two characters
    (北京有限公司 keeps 北京)."""
    part = strip_legal_suffix(compact(name))
    forms = place_forms(tuple(p for p in places if p))
    changed = True
    while changed:
        changed = False
        for form in forms:
            if part.startswith(form) and len(part) - len(form) >= 2:
                part, changed = part[len(form):], True
                break
            if part.endswith(form) and len(part) - len(form) >= 2:
                part, changed = strip_legal_suffix(part[: -len(form)]), True
                break
    return part


def pinyin(name: str, places=()) -> list[str]:
    """Pinyin terms of a company name: per jieba word, and the distinctive part's prefixes as a whole.

    Per word: 海尔智家 → haier, he, zhijia, zj (terms shared across the register). Whole: every prefix of
    two syllables or more of the distinctive part, full and initials, so 夏菲劳 typed as `xiafeilao` or
    `xfl` finds 上海夏菲劳家电有限公司 however jieba cut it. Prefixes only, not every window: windows at every
    syllable made most terms unique and cost 3–5× this field's size (see docs/search.md). `places`: the
    company's province and city, cut from the front or end as the provinces are."""
    base = strip_legal_suffix(compact(name))
    if not base:
        return []
    out = {t for word in _jieba().cut(base) for t in _word_pinyin(word)}
    out.update(_prefix_pinyin(distinctive_part(name, places)))
    return sorted(t for t in out if len(t) >= 2)


@functools.lru_cache(maxsize=65536)
def _prefix_pinyin(part: str) -> tuple[str, ...]:
    """Full and initials of every prefix of ≥ 2 syllables (Latin letters and digits in it are skipped)."""
    from pypinyin import lazy_pinyin

    syllables = [s for s in lazy_pinyin(part, errors=lambda _run: ["-"]) if s.isascii() and s.isalpha()]
    out = []
    for end in range(2, len(syllables) + 1):
        out.append("".join(syllables[:end]))
        out.append("".join(s[0] for s in syllables[:end]))
    return tuple(out)


@functools.lru_cache(maxsize=65536)
def _word_pinyin(word: str) -> tuple[str, ...]:
    """(full, initials) of one word, or () if it has no Chinese syllables (cached: words repeat)."""
    from pypinyin import lazy_pinyin

    syllables = [s for s in lazy_pinyin(word, errors="ignore") if s.isascii() and s.isalpha()]
    if not syllables:
        return ()
    return ("".join(syllables), "".join(s[0] for s in syllables))


def split_query(text: str) -> list[str]:
    """User words: runs of letters and digits of the folded text; any punctuation or syntax separates."""
    return _ALNUM.findall(fold(text))


def is_latin(word: str) -> bool:
    return bool(_LATIN_WORD.fullmatch(word))
