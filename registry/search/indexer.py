"""The outbox indexer: applies pending SearchOutbox rows to the index, rebuilds it, and checks it.

Exactly one writer at a time (IndexStore.writer_lock). Applying re-reads each certificate's CURRENT row,
so the order in which rows are applied does not matter and applying twice is harmless; rows are deleted
only after the index commit, so a crash in between loses nothing.
"""
from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from registry.certificates.models import Certificate
from registry.search.documents import certificate_document
from registry.search.index import IndexStore, IndexUnavailable, merge_small_only
from registry.search.outbox import SearchOutbox
from registry.search.schema import pack_display, unpack_display

log = logging.getLogger(__name__)
BATCH = 500
WRITER_TIMEOUT = 30.0


def source_digest(certificate) -> str:
    """A fingerprint of everything the index shows or matches, computed without analysis (fast)."""
    company = certificate.company
    data = [certificate.number, company.uscc, company.name, list(company.former_names or []),
            company.province, company.city, company.industry, certificate.scheme_id, certificate.level,
            certificate.status, certificate.scope or "", list(certificate.service_sites or []),
            certificate.issued_on.isoformat(), certificate.expires_on.isoformat(),
            # The status rule's other inputs (see documents.py).
            str(certificate.suspended_until or ""), str(certificate.surveillance_due or "")]
    return hashlib.sha1(json.dumps(data, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def _document(certificate) -> dict:
    doc = certificate_document(certificate)
    doc["display"]["digest"] = source_digest(certificate)
    doc["display"] = pack_display(doc["display"])
    return doc


def _load(session: Session, ids) -> list[Certificate]:
    return list(session.scalars(select(Certificate).where(Certificate.id.in_(list(ids)))
                                .options(joinedload(Certificate.company))).unique())


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SearchOutbox)) or 0


def apply_outbox(engine, store: IndexStore, wait: float | None = None, batch: int = BATCH) -> int:
    """Apply every pending outbox row (in batches); returns how many rows were applied.

    Raises IndexUnavailable if there is no index to apply to (rows stay pending), IndexBusy if the lock
    could not be had within `wait` seconds.
    """
    applied = 0
    with store.writer_lock(wait=wait):
        ix = store.open()
        try:
            with Session(engine) as session:
                while True:
                    rows = session.execute(select(SearchOutbox.id, SearchOutbox.entity_id)
                                           .order_by(SearchOutbox.id).limit(batch)).all()
                    if not rows:
                        break
                    ids = {entity_id for _, entity_id in rows}
                    found = _load(session, ids)
                    writer = ix.writer(timeout=WRITER_TIMEOUT)
                    try:
                        for certificate in found:
                            writer.update_document(**_document(certificate))
                        for missing in ids - {c.id for c in found}:
                            writer.delete_by_term("cert_id", str(missing))
                    except BaseException:
                        writer.cancel()
                        raise
                    writer.commit(mergetype=merge_small_only)
                    session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_([r[0] for r in rows])))
                    session.commit()
                    session.expunge_all()
                    applied += len(rows)
        finally:
            ix.close()
    return applied


# -- rebuild ------------------------------------------------------------------

def _plain(certificate) -> SimpleNamespace:
    """A picklable copy of what documents need (for analysis in worker processes)."""
    c = certificate.company
    company = SimpleNamespace(name=c.name, uscc=c.uscc, former_names=list(c.former_names or []),
                              province=c.province, city=c.city, industry=c.industry)
    return SimpleNamespace(id=certificate.id, number=certificate.number, scheme_id=certificate.scheme_id,
                           level=certificate.level, status=certificate.status, scope=certificate.scope,
                           service_sites=list(certificate.service_sites or []), issued_on=certificate.issued_on,
                           expires_on=certificate.expires_on, suspended_until=certificate.suspended_until,
                           surveillance_due=certificate.surveillance_due, company=company)


def _documents_of(chunk: list[SimpleNamespace]) -> list[dict]:
    return [_document(c) for c in chunk]


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def iter_plain_certificates(session: Session, chunk: int = 2000):
    last = 0
    while True:
        batch = list(session.scalars(select(Certificate).where(Certificate.id > last).order_by(Certificate.id)
                                     .options(joinedload(Certificate.company)).limit(chunk)).unique())
        if not batch:
            return
        yield [_plain(c) for c in batch]
        last = batch[-1].id
        session.expunge_all()


def build_documents(plain: list[SimpleNamespace], procs: int):
    """Documents for all certificates, analysed in `procs` processes (jieba and pinyin are CPU-bound)."""
    if procs <= 1 or len(plain) < 2000:
        yield from _documents_of(plain)
        return
    from registry.search import analysis
    analysis.words("预热")  # load jieba once before forking, so children share it
    context = multiprocessing.get_context("fork")
    with context.Pool(procs) as pool:
        for docs in pool.imap(_documents_of, _chunks(plain, 500)):
            yield from docs


@dataclass
class RebuildReport:
    documents: int
    seconds: float
    applied_after: int
    generation: str


def rebuild(engine, store: IndexStore, procs: int | None = None) -> RebuildReport:
    """Build a complete new index beside the live one from the database, swap it in, apply leftovers.

    Holds the writer lock throughout, so no outbox batch is applied to the old index meanwhile; rows that
    arrive during the build stay pending and are applied to the new index right after the swap.
    """
    started = time.perf_counter()
    procs = procs or max(1, os.cpu_count() or 1)
    with store.writer_lock(wait=None):
        name, ix = store.create_generation()
        with Session(engine) as session:
            plain = [c for chunk in iter_plain_certificates(session) for c in chunk]
        if procs > 1 and len(plain) >= 2000:
            # Whoosh's own sub-writers index in parallel, one segment each (no merge at the end).
            writer = ix.writer(procs=procs, multisegment=True, limitmb=128)
        else:
            writer = ix.writer(limitmb=256)
        count = 0
        try:
            for doc in build_documents(plain, procs):
                writer.add_document(**doc)
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        ix.close()
        store.publish(name)
    applied = apply_outbox(engine, store)
    return RebuildReport(count, time.perf_counter() - started, applied, name)


# -- check ----------------------------------------------------------------------

@dataclass
class CheckReport:
    database: int = 0
    indexed: int = 0
    missing: list[str] = field(default_factory=list)   # certificate numbers not in the index
    extra: list[str] = field(default_factory=list)     # index documents with no certificate (numbers)
    stale: list[str] = field(default_factory=list)     # indexed with outdated details
    pending: int = 0
    problem: str = ""                                   # the index could not be opened

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.stale or self.problem)


def check(engine, store: IndexStore) -> CheckReport:
    """Compare database and index certificate by certificate (by a fingerprint of their details)."""
    report = CheckReport()
    expected: dict[str, tuple[str, str]] = {}
    with Session(engine) as session:
        report.pending = pending_count(session)
        last = 0
        while True:
            batch = list(session.scalars(select(Certificate).where(Certificate.id > last).order_by(Certificate.id)
                                         .options(joinedload(Certificate.company)).limit(2000)).unique())
            if not batch:
                break
            for c in batch:
                expected[str(c.id)] = (c.number, source_digest(c))
            last = batch[-1].id
            session.expunge_all()
    report.database = len(expected)
    try:
        ix = store.open()
    except IndexUnavailable as error:
        report.problem = str(error)
        report.missing = sorted(number for number, _ in expected.values())
        return report
    with ix.searcher() as searcher:
        seen: set[str] = set()
        for fields in searcher.all_stored_fields():
            cert_id = fields["cert_id"]
            display = unpack_display(fields["display"])
            seen.add(cert_id)
            if cert_id not in expected:
                report.extra.append(display.get("number", cert_id))
            elif expected[cert_id][1] != display.get("digest"):
                report.stale.append(expected[cert_id][0])
        report.indexed = len(seen)
    ix.close()
    report.missing = sorted(number for cert_id, (number, _) in expected.items() if cert_id not in seen)
    report.extra.sort()
    report.stale.sort()
    return report


def certificate_count(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Certificate)) or 0

