"""Appending to the ledger. There is deliberately no update or delete path for entries."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text

from registry import clock
from registry.extensions import db
from registry.ledger.chain import GENESIS_HASH, entry_hash
from registry.ledger.models import LedgerEntry


def _lock_head() -> None:
    """Serialise appenders so two transactions never chain onto the same head.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: a single writer at a time already; the
    primary key on seq turns any remaining race into an error instead of a fork.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(272922)"))


def head() -> LedgerEntry | None:
    return db.session.scalar(select(LedgerEntry).order_by(LedgerEntry.seq.desc()).limit(1))


def append_entry(*, kind: str, actor_role: str, certificate=None, effective_on: dt.date | None = None,
                 status_after: str | None = None, level_after: str | None = None, public_text: str = "",
                 reason: str = "", data: dict | None = None) -> LedgerEntry:
    """Append one entry chained to the current head; flushed, committed by the caller's transaction."""
    _lock_head()
    db.session.flush()
    last = head()
    fields = {
        "seq": (last.seq + 1) if last else 1,
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
        "prev_hash": last.hash if last else GENESIS_HASH,
    }
    entry = LedgerEntry(certificate_id=certificate.id if certificate is not None else None,
                        hash=entry_hash(fields), **fields)
    db.session.add(entry)
    db.session.flush()
    return entry
