"""The on-disk index and the per-process searcher.

Layout of SEARCH_INDEX_DIR:
    CURRENT            the name of the live generation (replaced atomically by `rebuild`)
    v1-<stamp>/        a Whoosh index (one directory per generation; rebuild writes a new one beside)
    indexer.lock       held by whoever writes (the outbox indexer, rebuild), so there is one writer

Readers keep one searcher per process and reuse it until the index changes (a new commit or a new
generation); per-searcher caches hold each filter's and facet's document set.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import scoring
from whoosh.query import And, Every, Or, Prefix, Term
from whoosh.reading import SegmentReader
from whoosh.sorting import FieldFacet

from registry.certificates.rules import CertificateStatus
from registry.search import analysis
from registry.search.schema import FACET_FIELDS, SCHEMA_VERSION, build_schema, unpack_display

# Boosts of the clauses a query word can match (an exact name or number ranks first, a word of the
# current name above a former name, grams last: they have LIKE semantics).
BOOSTS = {
    "number_key": 40.0, "uscc_key": 40.0, "name_words": 4.0, "former_words": 2.0,
    "pinyin": 2.0, "scope_words": 1.5, "place_words": 1.5, "name_grams": 1.0,
}
WORD_FIELDS = ("name_words", "former_words", "scope_words", "place_words")
SMALL_SEGMENT = 5000
# TF-IDF, not BM25F: BM25F reads each matching document's field length, which dominated query time, and
# our fields are short names and phrases where length normalisation adds little.
WEIGHTING = scoring.TF_IDF()


class IndexUnavailable(Exception):
    """The index is missing, unreadable, or of another schema version."""


class IndexBusy(Exception):
    """Another process or thread holds the indexer lock."""


def merge_small_only(writer, segments):
    """Merge policy for outbox commits: fold small segments together, never touch the big one (a merge of
    the big segment can take minutes while holding the lock; `rebuild` makes a fresh, single segment)."""
    small = [s for s in segments if s.doc_count_all() < SMALL_SEGMENT]
    if len(small) < 4:
        return segments
    for seg in small:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        writer.add_reader(reader)
        reader.close()
    return [s for s in segments if s not in small]


_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


class IndexStore:
    """Generations of the index under one directory, and the single-writer lock."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    # -- generations ------------------------------------------------------
    @property
    def pointer(self) -> Path:
        return self.root / "CURRENT"

    def current_name(self) -> str | None:
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return name or None

    def current_path(self) -> Path | None:
        name = self.current_name()
        return self.root / name if name else None

    def open(self):
        """The live index; raises IndexUnavailable if missing, broken or of another schema version."""
        name = self.current_name()
        if not name:
            raise IndexUnavailable("missing")
        if not name.startswith(f"v{SCHEMA_VERSION}-"):
            raise IndexUnavailable("old schema version")
        path = self.root / name
        try:
            if not whoosh_index.exists_in(str(path)):
                raise IndexUnavailable("missing")
            return whoosh_index.open_dir(str(path))
        except IndexUnavailable:
            raise
        except Exception as error:  # a damaged TOC or segment: report, never crash the page
            raise IndexUnavailable(f"broken: {type(error).__name__}") from error

    def create_generation(self):
        """A new, empty index directory beside the live one: (name, index)."""
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"v{SCHEMA_VERSION}-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
        path = self.root / name
        path.mkdir()
        return name, whoosh_index.create_in(str(path), build_schema())

    def publish(self, name: str) -> None:
        """Make `name` the live generation (atomic rename), then remove all but it and its predecessor."""
        previous = self.current_name()
        tmp = self.root / f"CURRENT.{uuid.uuid4().hex}"
        tmp.write_text(name, encoding="utf-8")
        os.replace(tmp, self.pointer)
        keep = {name, previous}
        for child in self.root.iterdir():
            if child.is_dir() and child.name.startswith("v") and child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)

    # -- the single writer ------------------------------------------------
    @contextlib.contextmanager
    def writer_lock(self, wait: float | None = None):
        """Exclusive across threads (a lock per directory) and processes (flock). wait=None blocks."""
        self.root.mkdir(parents=True, exist_ok=True)
        key = str(self.root.resolve())
        with _thread_locks_guard:
            thread_lock = _thread_locks.setdefault(key, threading.Lock())
        if not thread_lock.acquire(timeout=-1 if wait is None else wait):
            raise IndexBusy()
        try:
            handle = open(self.root / "indexer.lock", "a+")  # noqa: SIM115 (held for the block)
            try:
                deadline = None if wait is None else time.monotonic() + wait
                while True:
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if deadline is not None and time.monotonic() >= deadline:
                            raise IndexBusy() from None
                        time.sleep(0.02)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            finally:
                handle.close()
        finally:
            thread_lock.release()


# -- searching --------------------------------------------------------------

@dataclass
class Facets:
    """Per-searcher caches: each facet value's document set and a docnum → value code array."""
    sets: dict[str, dict[str, set[int]]] = field(default_factory=dict)
    codes: dict[str, tuple[list[int], list[str]]] = field(default_factory=dict)
    live: set[int] | None = None
    status_for: dt.date | None = None


class SearcherHolder:
    """One long-lived searcher per process, refreshed when the index changes."""

    def __init__(self, store: IndexStore):
        self.store = store
        self._lock = threading.Lock()
        self._searcher = None
        self._generation: str | None = None
        self._facets = Facets()

    def get(self):
        """(searcher, facet caches), current with the live index; raises IndexUnavailable."""
        with self._lock:
            name = self.store.current_name()
            if self._searcher is None or name != self._generation:
                ix = self.store.open()
                self._searcher = ix.searcher(weighting=WEIGHTING)
                self._generation = name
                self._facets = Facets()
            else:
                try:
                    fresh = self._searcher.up_to_date()
                except Exception as error:  # files vanished under us
                    self._searcher = None
                    raise IndexUnavailable(f"broken: {type(error).__name__}") from error
                if not fresh:
                    # A new searcher, not refresh(): refresh() reuses the reader of a segment whose
                    # deletions changed and then still shows the deleted (replaced) document. The old one
                    # is not closed here (another thread may be using it); it closes when released.
                    self._searcher = self.store.open().searcher(weighting=WEIGHTING)
                    self._facets = Facets()
            return self._searcher, self._facets

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                with contextlib.suppress(Exception):
                    self._searcher.close()
            self._searcher = None


def _facet_sets(searcher, facets: Facets, name: str) -> dict[str, set[int]]:
    if name not in facets.sets:
        stored = "status" if name == "status" else name
        sets = {}
        for raw in searcher.lexicon(stored):
            value = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            docs = set(searcher.docs_for_query(Term(stored, value)))
            if docs and value:
                sets[value] = docs
        facets.sets[name] = sets
    return facets.sets[name]


def _status_sets(searcher, facets: Facets, today: dt.date) -> dict[str, set[int]]:
    """Effective status → documents on `today`: 'expired' is computed from the stored expiry date."""
    if facets.status_for != today or "effective_status" not in facets.sets:
        stored = _facet_sets(searcher, facets, "status")
        cutoff = today.toordinal()
        expires = searcher.reader().column_reader("expires")
        expired_by_date = {docnum for docnum, day in enumerate(expires) if day < cutoff}
        terminal = {CertificateStatus.REVOKED.value, CertificateStatus.WITHDRAWN.value}
        sets: dict[str, set[int]] = {}
        for value, docs in stored.items():
            if value in terminal:
                sets[value] = docs
            else:
                sets[value] = docs - expired_by_date
                sets.setdefault(CertificateStatus.EXPIRED.value, set()).update(docs & expired_by_date)
        facets.sets["effective_status"] = {k: v for k, v in sets.items() if v}
        facets.codes.pop("effective_status", None)
        facets.status_for = today
    return facets.sets["effective_status"]


def _sets_for(searcher, facets: Facets, name: str, today: dt.date) -> dict[str, set[int]]:
    return _status_sets(searcher, facets, today) if name == "status" else _facet_sets(searcher, facets, name)


def _codes_for(searcher, facets: Facets, name: str, today: dt.date) -> tuple[list[int], list[str]]:
    key = "effective_status" if name == "status" else name
    sets = _sets_for(searcher, facets, name, today)
    if key not in facets.codes:
        values = sorted(sets)
        codes = [0] * searcher.doc_count_all()
        for index, value in enumerate(values, start=1):
            for docnum in sets[value]:
                codes[docnum] = index
        facets.codes[key] = (codes, ["", *values])
    return facets.codes[key]


def _live_docs(searcher, facets: Facets) -> set[int]:
    if facets.live is None:
        facets.live = set(searcher.reader().all_doc_ids())
    return facets.live


class UnionOr(Or):
    """An Or that always builds a tree of union matchers (Whoosh otherwise preloads every posting of a
    small index into arrays, which made each query tens of milliseconds slower)."""
    matcher_type = Or.DEFAULT_MATCHER


def _term(reader, field: str, text: str, boost: float = 1.0):
    """A Term query, or None when the index does not contain the term (pruned before matching)."""
    return Term(field, text, boost=boost) if (field, text) in reader else None


def _all(parts: list):
    """And of the parts, or None if any part can never match."""
    if not parts or any(p is None for p in parts):
        return None
    return parts[0] if len(parts) == 1 else And(parts)


def _any(options: list):
    options = [o for o in options if o is not None]
    if not options:
        return None
    return options[0] if len(options) == 1 else UnionOr(options)


def grams_query(reader, word: str, boost: float = 1.0):
    """The gram clause of a word: all its bigrams, or for one character any gram starting with it."""
    grams = analysis.query_grams(word)
    if not grams:
        return None
    if len(grams) == 1 and len(grams[0]) == 1:
        return Prefix("name_grams", grams[0], boost=boost)
    return _all([_term(reader, "name_grams", g, boost) for g in grams])


def word_query(reader, word: str):
    """Everything one user word may match, as an Or of boosted clauses, terms absent from the index
    pruned; None if the word cannot match anything. Never raises on odd input."""
    key = analysis.fold_key(word)
    clauses = [_term(reader, "number_key", key, BOOSTS["number_key"]),
               _term(reader, "uscc_key", key, BOOSTS["uscc_key"]),
               grams_query(reader, word, BOOSTS["name_grams"])]
    parts = analysis.query_words(word) or [word]
    for name in WORD_FIELDS:
        clauses.append(_all([_term(reader, name, p, BOOSTS[name]) for p in parts]))
    if analysis.is_latin(word):
        clauses.append(_term(reader, "pinyin", word, BOOSTS["pinyin"]))
    if len(parts) > 1:
        # 海尔空调 typed as one word: each part may match a different field (name, scope, place).
        clauses.append(_all([_any([*(_term(reader, name, p, BOOSTS[name]) for name in WORD_FIELDS),
                                   grams_query(reader, p)]) for p in parts]))
    return _any(clauses)


def build_query(reader, words: list[str]):
    """The query for the user's words (all must match), or None if some word matches nothing."""
    if not words:
        return Every()
    return _all([word_query(reader, w) for w in words])


@dataclass
class IndexAnswer:
    hits: list[dict]
    total: int
    facets: dict[str, list[tuple[str, int]]]


SORTS = ("relevance", "level", "issued")


def run_search(holder: SearcherHolder, words: list[str], filters: dict[str, str], sort: str, page: int,
               per_page: int, today: dt.date) -> IndexAnswer:
    """Search the index: matching documents, exact count, facet counts within the matches, one page."""
    searcher, facets = holder.get()
    allowed: set[int] | None = None
    for name, value in filters.items():
        docs = _sets_for(searcher, facets, name, today).get(value, set())
        allowed = set(docs) if allowed is None else allowed & docs
    q = build_query(searcher.reader(), words)
    if q is None:
        matched: set[int] = set()
    elif words:
        matched = set(searcher.docs_for_query(q))
        if allowed is not None:
            matched &= allowed
    else:
        matched = allowed if allowed is not None else _live_docs(searcher, facets)
    counts: dict[str, list[tuple[str, int]]] = {}
    for name in FACET_FIELDS:
        codes, values = _codes_for(searcher, facets, name, today)
        tally = Counter(map(codes.__getitem__, matched))
        counts[name] = sorted(((values[c], n) for c, n in tally.items() if c), key=lambda item: (-item[1], item[0]))
    hits: list[dict] = []
    start = (page - 1) * per_page
    if matched and start < len(matched):
        limit = start + per_page
        if sort == "level":
            sortedby = [FieldFacet("level_rank", reverse=True), FieldFacet("issued", reverse=True)]
        elif sort == "issued" or not words:
            sortedby = FieldFacet("issued", reverse=True)
        else:
            sortedby = None
        results = searcher.search(q, limit=limit, filter=matched if (allowed is not None or not words) else None,
                                  sortedby=sortedby)
        for hit in results[start:limit]:
            display = unpack_display(hit["display"])
            display["cert_id"] = int(hit["cert_id"])
            hits.append(display)
    return IndexAnswer(hits=hits, total=len(matched), facets=counts)
