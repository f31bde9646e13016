"""Text analysis for search, as pure functions: the same code makes index tokens and query terms.

Every text goes through `fold` first (OpenCC traditional → simplified, NFKC full-width → half-width,
lower case), so 海爾, ＨＡＩＥＲ and haier meet the simplified, lower-case forms in the index.

Tokens are produced here and written to the index space-separated (Whoosh KEYWORD fields); Whoosh never
analyses our text itself. That keeps analysis testable without an index, and the index schema free of
custom classes.

- words: jieba, search mode (青岛海澜家电有限公司 → 青岛 海澜 家电 有限 公司 有限公司).
- grams: every 2-character window of a name's letters and digits. A query of two or more characters
  matches when all its bigrams are present (LIKE-like: 海澜 and 澜家电 both find 青岛海澜家电有限公司, which
  jieba words alone miss for cross-word substrings).
- pinyin: of each jieba word of a name (without the legal-form suffix) and of adjacent word pairs, in full
  and as initials: 海尔 → haier, he.
"""
from __future__ import annotations

import functools
import re
import unicodedata

from registry.certificates.identifiers import fold as fold_identifier

# Legal-form endings nobody types when looking for a company; left out of pinyin windows only.
LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")
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
    import logging

    import jieba
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


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
    for suffix in LEGAL_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def pinyin(name: str) -> list[str]:
    """Pinyin of each jieba word of a name, in full and as initials: 海尔智家 → haier, he, zhijia, zj.

    Word-aligned, so terms are shared across the register: windows at every syllable (and pairs of adjacent
    words) made most pinyin terms unique and cost 3–5× the index size of this field (see docs/search.md)."""
    base = strip_legal_suffix(compact(name))
    if not base:
        return []
    out = {t for word in _jieba().cut(base) for t in _word_pinyin(word)}
    return sorted(t for t in out if len(t) >= 2)


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
