"""The public ledger: an append-only, hash-chained history of everything the public sees change."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from registry.extensions import db


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entry"

    # The sequence is assigned as previous + 1, never by the database: two writers that read the same
    # head both try the same seq, and the primary key lets only one of them through (no fork).
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), index=True)
    certificate_number: Mapped[str | None] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    # The day the event takes effect (a back-dated import, a suspension from a given date).
    effective_on: Mapped[dt.date] = mapped_column(Date, index=True)
    # Status and level of the certificate after this event, so any past day can be reconstructed.
    status_after: Mapped[str | None] = mapped_column(String(20))
    level_after: Mapped[str | None] = mapped_column(String(20))
    scheme_id: Mapped[str | None] = mapped_column(String(40))
    public_text: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_role: Mapped[str] = mapped_column(String(20))  # never a person's name
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class LedgerIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete a ledger entry through the ORM (a bug, never user input)."""


@event.listens_for(Session, "before_flush")
def _refuse_ledger_changes(session, _flush_context, _instances):
    """The ORM half of "no update or delete path": a modified or deleted entry stops the flush."""
    for entry in session.deleted:
        if isinstance(entry, LedgerEntry):
            raise LedgerIsAppendOnly(f"ledger entry #{entry.seq} cannot be deleted")
    for entry in session.dirty:
        if isinstance(entry, LedgerEntry) and session.is_modified(entry):
            raise LedgerIsAppendOnly(f"ledger entry #{entry.seq} cannot be changed")


class LedgerTreeNode(db.Model):
    """A perfect subtree of the Merkle tree over the ledger: hash of leaves [index·2^level, (index+1)·2^level).

    Written only when complete (see ledger/merkle.py), so an append writes 1 + (trailing ones of its index)
    rows and reads as many left siblings; a proof reads O(log n) of them in one query. The key is one
    integer, level·2^48 + index, so that query is a plain `IN` on the primary key on every database
    (SQLite scans the table for a two-column row-value IN).
    """
    __tablename__ = "ledger_tree_node"

    node: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerCheckpoint(db.Model):
    """A signed checkpoint (C2SP tlog-checkpoint note) of the tree at one size; every one issued is kept."""
    __tablename__ = "ledger_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(Text)  # the whole signed note, exactly as served
