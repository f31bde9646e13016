"""Appending to the ledger. There is deliberately no update or delete path for entries."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, event, or_, select, text
from sqlalchemy.orm import Session

from registry import clock
from registry.extensions import db
from registry.ledger import tlog
from registry.ledger.chain import GENESIS_HASH, entry_hash
from registry.ledger.models import LedgerEntry


def lock_head() -> None:
    """Serialise appenders so two transactions never chain onto the same head.

    PostgreSQL: a transaction-scoped advisory lock, released at commit or rollback. SQLite: a no-op write
    takes the database's single write lock now, before the head is read, so a second writer waits for
    the first to commit (busy timeout) instead of reading a stale head. Should anything still slip through,
    the primary key on seq turns it into an error instead of a fork.
    """
    if db.session.info.get(_LOCKED_KEY):
        return  # already held by this transaction (both locks last until it ends)
    dialect = db.session.get_bind().dialect.name
    with db.session.no_autoflush:  # pending row changes are written after the lock, never before it
        if dialect == "postgresql":
            db.session.execute(text("SELECT pg_advisory_xact_lock(272922)"))
        elif dialect == "sqlite":
            db.session.execute(text("UPDATE ledger_entry SET seq = seq WHERE 0 = 1"))
    db.session.info[_LOCKED_KEY] = True


_HEAD_KEY = "registry.ledger_head"
_LOCKED_KEY = "registry.ledger_locked"


@event.listens_for(Session, "after_transaction_end")
def _forget_head(session, transaction):
    """The remembered head is only good inside the transaction holding the lock (or a savepoint undone)."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HEAD_KEY, None)
        session.info.pop(_LOCKED_KEY, None)
        tlog.forget(session)


def head() -> LedgerEntry | None:
    return db.session.scalar(select(LedgerEntry).order_by(LedgerEntry.seq.desc()).limit(1))


def append_entry(*, kind: str, actor_role: str, certificate=None, effective_on: dt.date | None = None,
                 status_after: str | None = None, level_after: str | None = None, public_text: str = "",
                 reason: str = "", data: dict | None = None) -> LedgerEntry:
    """Append one entry chained to the current head; flushed, committed by the caller's transaction."""
    cached = db.session.info.get(_HEAD_KEY)
    if cached is None:
        lock_head()
        db.session.flush()
        last = head()
        cached = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    elif certificate is not None and certificate.id is None:
        db.session.flush()
    last_seq, last_hash = cached
    fields = {
        "seq": last_seq + 1,
        "certificate_number": certificate.number if certificate is not None else None,
        "kind": kind,
        "effective_on": effective_on or clock.today(),
        "status_after": status_after,
        "level_after": level_after,
        "scheme_id": certificate.scheme_id if certificate is not None else None,
        "public_text": public_text,
        "reason": reason,
        "actor_role": actor_role,
        "data": data or {},
        # Whole seconds, fixed before hashing, so the stored row and the hash agree on every database.
        "recorded_at": clock.utcnow().replace(microsecond=0),
        "prev_hash": last_hash,
    }
    entry = LedgerEntry(certificate_id=certificate.id if certificate is not None else None,
                        hash=entry_hash(fields), **fields)
    db.session.add(entry)
    db.session.flush()
    tlog.append_leaf(entry.seq, fields)  # the Merkle tree grows in the same transaction, under the same lock
    # The lock is held until this transaction ends, so no one else can move the head meanwhile:
    # the next append in the same transaction chains on without asking the database again.
    db.session.info[_HEAD_KEY] = (entry.seq, entry.hash)
    return entry


def entry_fields(entry: LedgerEntry) -> dict:
    """The hashed fields of a stored entry, plus its stored hash."""
    from registry.ledger.chain import HASHED_FIELDS
    fields = {name: getattr(entry, name) for name in HASHED_FIELDS}
    fields["hash"] = entry.hash
    return fields


def iter_entries(after_seq: int = 0, limit: int | None = None, batch: int = 1000):
    """Entries in seq order, read in keyset pages so a long chain never sits in memory at once."""
    remaining = limit
    while remaining is None or remaining > 0:
        size = batch if remaining is None else min(batch, remaining)
        rows = db.session.scalars(select(LedgerEntry).where(LedgerEntry.seq > after_seq)
                                  .order_by(LedgerEntry.seq).limit(size)).all()
        if not rows:
            return
        after_seq = rows[-1].seq
        for row in rows:
            yield row
            db.session.expunge(row)  # keep the identity map small on long chains
        if remaining is not None:
            remaining -= len(rows)
        if len(rows) < size:
            return


def verify_chain():
    """Recompute the whole stored chain, then check each entry's link to its certificate row.

    See chain.verify_entries for the chain. The link (`certificate_id`) is not hashed: reads of history go
    by the hashed `certificate_number`, and this check names any entry whose row link disagrees with it.
    """
    from registry.ledger.chain import verify_entries
    count, head_hash, problem, seq = verify_entries(entry_fields(entry) for entry in iter_entries())
    if problem is None:
        broken = broken_links(limit=1)
        if broken:
            seq, problem = broken[0]
    return count, head_hash, problem, seq


def broken_links(limit: int | None = None) -> list[tuple[int, str]]:
    """Entries whose `certificate_id` does not point to the certificate their hashed number names."""
    from registry.certificates.models import Certificate
    linked = db.session.execute(
        select(LedgerEntry.seq, LedgerEntry.certificate_number, Certificate.number)
        .outerjoin(Certificate, Certificate.id == LedgerEntry.certificate_id)
        .where(or_(and_(LedgerEntry.certificate_id.is_not(None),
                        or_(Certificate.id.is_(None), LedgerEntry.certificate_number.is_(None),
                            Certificate.number != LedgerEntry.certificate_number)),
                   and_(LedgerEntry.certificate_id.is_(None), LedgerEntry.certificate_number.is_not(None))))
        .order_by(LedgerEntry.seq).limit(limit)).all()
    return [(seq, f"entry #{seq} is linked to certificate {actual or '(none)'} but records {number or '(none)'}")
            for seq, number, actual in linked]
