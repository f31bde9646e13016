"""Marking what matched in a result line, on the text as stored (traditional, full-width or not)."""
from __future__ import annotations

from markupsafe import Markup, escape

from registry.search import analysis


def needles_for(words: list[str]) -> list[str]:
    """What to mark for the user's words: each word, and its jieba parts (longest first)."""
    found: set[str] = set()
    for word in words:
        found.add(word)
        found.update(p for p in analysis.query_words(word) if len(p) > 1 or len(word) == 1)
    return sorted((n for n in found if n), key=len, reverse=True)


def highlight(text: str, needles: list[str]) -> Markup:
    """`text` with every occurrence of a needle wrapped in <mark>, comparing folded characters."""
    text = text or ""
    if not needles or not text:
        return escape(text)
    folded_parts = [analysis.fold(ch) for ch in text]
    folded = "".join(folded_parts)
    owner: list[int] = []  # folded position → original character index
    for index, part in enumerate(folded_parts):
        owner.extend([index] * len(part))
    marked = [False] * len(text)
    for needle in needles:
        start = folded.find(needle)
        while start != -1:
            for pos in range(start, start + len(needle)):
                marked[owner[pos]] = True
            start = folded.find(needle, start + 1)
    out, run = [], []
    for ch, is_marked in zip(text, marked, strict=True):
        if is_marked:
            run.append(ch)
            continue
        if run:
            out.append(Markup("<mark>") + escape("".join(run)) + Markup("</mark>"))
            run = []
        out.append(escape(ch))
    if run:
        out.append(Markup("<mark>") + escape("".join(run)) + Markup("</mark>"))
    return Markup("").join(out)
