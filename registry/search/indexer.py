"""The outbox indexer: applies the outbox to this host's index by its own cursor, rebuilds it, checks it.

Exactly one writer per index directory at a time (IndexStore.writer_lock). Applying re-reads each
certificate's CURRENT row, so the order in which rows are applied does not matter and applying twice is
harmless; the cursor moves only after the index commit, so a crash in between loses nothing.

Sequence gaps: on PostgreSQL a transaction may take sequence number 41, commit after the one that took 42,
or roll back and never commit 41 at all. The cursor therefore moves only across contiguous numbers, or
across a gap whose next row is older than SEARCH_OUTBOX_GAP_SECONDS (a transaction that has not committed
by then is taken as rolled back). Rows past a young gap are applied at once and remembered by this process,
so they are not applied again while the gap waits.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import multiprocessing
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

from flask import current_app, has_app_context
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, joinedload

from registry import clock
from registry.certificates.models import Certificate
from registry.search.documents import certificate_document
from registry.search.index import IndexStore, IndexUnavailable, merge_small_only
from registry.search.outbox import SearchCursor, SearchOutbox
from registry.search.schema import pack_display, unpack_display

log = logging.getLogger(__name__)
BATCH = 500
WRITER_TIMEOUT = 30.0
GAP_SECONDS = 60.0
# Rows this process applied beyond its cursor (waiting behind a young gap), per index and generation.
_applied_beyond: dict[tuple[str, str], set[int]] = {}


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


# -- the cursor -------------------------------------------------------------------

def index_identity(store: IndexStore, create: bool = True) -> str | None:
    """The id this index directory is registered under (file INDEX_ID, made once, never copied between hosts)."""
    path = store.root / "INDEX_ID"
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        if not create:
            return None
    store.root.mkdir(parents=True, exist_ok=True)
    made = uuid.uuid4().hex
    tmp = store.root / f"INDEX_ID.{made}"
    tmp.write_text(made, encoding="utf-8")
    try:
        os.link(tmp, path)  # atomic create-if-absent: two processes starting at once agree on one id
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text(encoding="utf-8").strip()


def index_label(store: IndexStore) -> str:
    return f"{socket.gethostname()}:{store.root.resolve()}"[:300]


def cursor_position(session: Session, ident: str | None) -> int:
    """Last applied sequence number of this index; 0 for an index from before cursors (all rows pending).

    Raises IndexUnavailable if the index fell behind the retention (rows it never applied were pruned).
    """
    row = session.get(SearchCursor, ident) if ident else None
    if row is None:
        return 0
    if row.expired:
        raise IndexUnavailable("behind the outbox retention")
    return row.last_seq


def save_cursor(session: Session, ident: str, label: str, last_seq: int) -> None:
    row = session.get(SearchCursor, ident)
    if row is None:
        session.add(SearchCursor(index_id=ident, label=label, last_seq=last_seq, expired=False,
                                 updated_at=clock.utcnow()))
    else:
        row.last_seq, row.label, row.expired, row.updated_at = last_seq, label, False, clock.utcnow()


def _setting(name: str, default: float) -> float:
    if has_app_context():
        return float(current_app.config.get(name, default))
    return default


def pending_rows(session: Session, store: IndexStore) -> tuple[int, dt.datetime | None]:
    """(how many outbox rows this index has not applied, when the oldest of them was written)."""
    ident = index_identity(store, create=False)
    row = session.get(SearchCursor, ident) if ident else None
    position = row.last_seq if row is not None else 0
    count, oldest = session.execute(select(func.count(), func.min(SearchOutbox.created_at))
                                    .where(SearchOutbox.id > position)).one()
    return count or 0, oldest


def pending_count(session: Session, store: IndexStore) -> int:
    return pending_rows(session, store)[0]


def prune_passed(session: Session) -> int:
    """Delete rows every registered index has applied. The newest row always stays (SQLite would otherwise
    hand its number out again, and every cursor would skip the new row)."""
    floor = session.scalar(select(func.min(SearchCursor.last_seq)).where(SearchCursor.expired.is_(False)))
    if not floor:
        return 0
    return session.execute(delete(SearchOutbox).where(SearchOutbox.id < floor)).rowcount or 0


def prune_expired(session: Session, retention_days: float) -> int:
    """Delete rows older than the retention even if some index has not applied them; mark those indexes
    expired (they rebuild). The newest row always stays. The caller commits."""
    top = session.scalar(select(func.max(SearchOutbox.id)))
    if top is None:
        return 0
    cutoff = clock.utcnow() - dt.timedelta(days=retention_days)
    last_old = session.scalar(select(func.max(SearchOutbox.id)).where(SearchOutbox.created_at < cutoff,
                                                                         SearchOutbox.id < top))
    if last_old is None:
        return 0
    session.execute(update(SearchCursor).where(SearchCursor.last_seq < last_old, SearchCursor.expired.is_(False))
                    .values(expired=True, updated_at=clock.utcnow()))
    return session.execute(delete(SearchOutbox).where(SearchOutbox.id <= last_old)).rowcount or 0


def _write(ix, session: Session, entity_ids: set[int]) -> None:
    found = _load(session, entity_ids)
    writer = ix.writer(timeout=WRITER_TIMEOUT)
    try:
        for certificate in found:
            writer.update_document(**_document(certificate))
        for missing in entity_ids - {c.id for c in found}:
            writer.delete_by_term("cert_id", str(missing))
    except BaseException:
        writer.cancel()
        raise
    writer.commit(mergetype=merge_small_only)


def apply_outbox(engine, store: IndexStore, wait: float | None = None, batch: int = BATCH,
                 gap_seconds: float | None = None) -> int:
    """Apply every outbox row past this index's cursor (in batches); returns how many rows were applied.

    Raises IndexUnavailable if there is no index to apply to (or it fell behind the retention; rows stay),
    IndexBusy if the lock could not be had within `wait` seconds.
    """
    gap = _setting("SEARCH_OUTBOX_GAP_SECONDS", GAP_SECONDS) if gap_seconds is None else gap_seconds
    applied = 0
    with store.writer_lock(wait=wait):
        ix = store.open()
        ident = index_identity(store)
        label = index_label(store)
        try:
            with Session(engine) as session:
                settled = start = cursor_position(session, ident)
                beyond = _applied_beyond.setdefault((ident, store.current_name() or ""), set())
                position, blocked = settled, False
                give_up_before = clock.utcnow() - dt.timedelta(seconds=gap)
                while True:
                    rows = session.execute(select(SearchOutbox.id, SearchOutbox.entity_id, SearchOutbox.created_at)
                                           .where(SearchOutbox.id > position)
                                           .order_by(SearchOutbox.id).limit(batch)).all()
                    if not rows:
                        break
                    todo = [r for r in rows if r.id not in beyond]
                    if todo:
                        _write(ix, session, {r.entity_id for r in todo})
                        applied += len(todo)
                    for r in rows:
                        if not blocked and (r.id == settled + 1 or r.created_at <= give_up_before):
                            settled = r.id
                        else:
                            blocked = True
                            beyond.add(r.id)
                    position = rows[-1].id
                    if settled > start:
                        save_cursor(session, ident, label, settled)
                    session.commit()
                    session.expunge_all()
                if settled > start or session.get(SearchCursor, ident) is None:
                    save_cursor(session, ident, label, settled)
                    prune_passed(session)
                    session.commit()
                beyond.difference_update([i for i in beyond if i <= settled])
        finally:
            ix.close()
    return applied


def _snapshot_position(session: Session, gap: float) -> int:
    """The cursor a rebuild records: rows at or below it are reflected in what the rebuild reads next.

    Rows younger than the gap window are re-applied after the swap (harmless), since an older sequence
    number may still be committing."""
    cutoff = clock.utcnow() - dt.timedelta(seconds=gap)
    seq = session.scalar(select(func.max(SearchOutbox.id)).where(SearchOutbox.created_at < cutoff))
    if seq is not None:
        return seq
    first = session.scalar(select(func.min(SearchOutbox.id)))
    return first - 1 if first is not None else 0


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
    gap = _setting("SEARCH_OUTBOX_GAP_SECONDS", GAP_SECONDS)
    with store.writer_lock(wait=None):
        ident = index_identity(store)
        hold = f"{ident}:rebuild"
        name, ix = store.create_generation()
        with Session(engine) as session:
            # The position first, registered at once as a hold, so no other host prunes rows past it while
            # this build reads and writes (a crashed build's hold expires with the retention).
            snapshot = _snapshot_position(session, gap)
            save_cursor(session, hold, f"rebuild of {index_label(store)}"[:300], snapshot)
            session.commit()
        with Session(engine) as session:
            # A new transaction, begun after the hold: it sees every change whose row is at or below it.
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
        with Session(engine) as session:
            save_cursor(session, ident, index_label(store), snapshot)
            session.execute(delete(SearchCursor).where(SearchCursor.index_id == hold))
            session.commit()
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
        report.pending = pending_count(session, store)
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

